#include "tasks/task_service.h"

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

Result<core::Task> TaskService::Submit(SubmitParams p) {
  RETURN_IF_ERROR(routes_.CheckServed(p.request));
  core::Task t;
  t.id = std::move(p.id);
  t.dialect = std::move(p.dialect);
  t.key_id = std::move(p.key_id);
  t.account_id = std::move(p.account_id);
  t.model_alias = std::move(p.model_alias);
  t.client_echo = std::move(p.client_echo);
  t.request = std::move(p.request);
  t.created_ms = clock_->NowMs();
  t.updated_ms = t.created_ms;
  const int64_t price = prices_ ? billing::PriceFor(*prices_, t.request) : 0;
  ASSIGN_OR_RETURN(t.usage, store_.Insert(t, {t.account_id, price, t.key_id}));
  cache_.Put(std::make_shared<const core::Task>(t));
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

}  // namespace wanserve::tasks
