#include "tasks/task_service.h"

#include <spdlog/spdlog.h>

namespace wanserve::tasks {

TaskService::TaskService(store::TaskStore& store, const providers::ProviderRegistry& routes,
                         std::shared_ptr<Clock> clock, std::function<void()> on_submit, TaskCacheOptions cache,
                         std::optional<billing::PriceTable> prices)
    : store_(store),
      routes_(routes),
      clock_(clock),
      on_submit_(std::move(on_submit)),
      cache_(std::move(clock), cache),
      prices_(std::move(prices)) {}

// The task an earlier submit of the key made under the Idempotency-Key, when the request is
// the same; nullopt when the key names nothing live.
Result<std::optional<core::Task>> TaskService::Replay(const SubmitParams& p, int64_t now_ms) {
  ASSIGN_OR_RETURN(std::optional<store::IdempotentSubmit> earlier,
                   store_.FindIdempotentSubmit(p.key_id, p.idempotency_key, now_ms - kIdempotencyWindowMs));
  if (!earlier) return std::optional<core::Task>();
  if (earlier->request_hash != p.request_hash) {
    Error e = MakeError(ErrorCode::kConflict,
                        "this Idempotency-Key was used for another request in the last 24 hours; use a new key",
                        "Idempotency-Key");
    e.detail_code = kIdempotencyKeyReused;
    return e;
  }
  ASSIGN_OR_RETURN(core::Task task, Get(earlier->task_id, p.key_id));
  return std::optional<core::Task>(std::move(task));
}

Result<core::Task> TaskService::Submit(SubmitParams p) {
  if (!p.idempotency_key.empty()) {
    ASSIGN_OR_RETURN(std::optional<core::Task> replayed, Replay(p, clock_->NowMs()));
    if (replayed) return *std::move(replayed);
  }
  RETURN_IF_ERROR(routes_.CheckServed(p.request));
  core::Task t;
  t.id = std::move(p.id);
  t.dialect = std::move(p.dialect);
  t.key_id = p.key_id;  // Replay reads it again after a race
  t.account_id = std::move(p.account_id);
  t.model_alias = std::move(p.model_alias);
  t.client_echo = std::move(p.client_echo);
  t.request = std::move(p.request);
  t.created_ms = clock_->NowMs();
  t.updated_ms = t.created_ms;
  const int64_t price = prices_ ? billing::PriceFor(*prices_, t.request) : 0;
  store::Hold hold{t.account_id, price, t.key_id,
                   {p.idempotency_key, p.request_hash, t.created_ms - kIdempotencyWindowMs}};
  auto usage = store_.Insert(t, hold);
  if (!usage.ok() && usage.error().detail_code == store::kIdempotencyKeyTaken) {
    // A concurrent submit under the same key committed first: answer as its replay.
    ASSIGN_OR_RETURN(std::optional<core::Task> replayed, Replay(p, t.created_ms));
    if (replayed) return *std::move(replayed);
  }
  if (!usage.ok()) return usage.error();
  t.usage = *usage;
  cache_.Put(std::make_shared<const core::Task>(t));
  spdlog::info("task={} submitted: {} {} by {} ({}), {} credits held", t.id, t.request.model,
               core::ToString(t.request.kind), t.key_id, t.dialect, price);
  if (on_submit_) on_submit_();
  return t;
}

Result<TaskSnapshot> TaskService::Snapshot(const std::string& id, const std::string& key_id) {
  TaskSnapshot task = cache_.Find(id);
  if (!task) {
    ASSIGN_OR_RETURN(core::Task t, store_.Get(id));
    task = std::make_shared<const core::Task>(std::move(t));
    cache_.Put(task);
  }
  if (task->key_id != key_id) return MakeError(ErrorCode::kNotFound, "task not found");
  return task;
}

Result<core::Task> TaskService::Get(const std::string& id, const std::string& key_id) {
  ASSIGN_OR_RETURN(TaskSnapshot task, Snapshot(id, key_id));
  return *task;
}

Result<core::Task> TaskService::Cancel(const std::string& id, const std::string& key_id) {
  RETURN_IF_ERROR(Get(id, key_id));
  cache_.Invalidate(id);
  RETURN_IF_ERROR(store_.RequestCancel(id, clock_->NowMs()));
  ASSIGN_OR_RETURN(core::Task t, store_.Get(id));
  cache_.Put(std::make_shared<const core::Task>(t));
  return t;
}

Result<std::vector<core::Task>> TaskService::ListActive(const std::string& key_id, int limit) {
  return store_.ListActive(key_id, limit);
}

Result<std::vector<core::Task>> TaskService::ListRecent(const std::string& key_id, int limit) {
  return store_.ListRecent(key_id, limit);
}

std::optional<int64_t> TaskService::PriceOf(const core::GenerationRequest& request) const {
  if (!prices_) return std::nullopt;
  return billing::PriceFor(*prices_, request);
}

}  // namespace wanserve::tasks
