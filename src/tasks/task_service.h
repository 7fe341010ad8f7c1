#pragma once
// Submit, query, cancel and list tasks on behalf of one API key. Dialects call this with a
// normalized request; nothing here knows any dialect's JSON.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "core/task.h"
#include "billing/price_table.h"
#include "providers/registry.h"
#include "store/task_store.h"
#include "tasks/task_cache.h"

namespace wanserve::tasks {

struct SubmitParams {
  std::string id;           // public id, made by the dialect in its own format
  std::string dialect;
  std::string key_id;
  std::string account_id = store::kDefaultAccountId;  // pays for the task
  std::string model_alias;
  std::string client_echo;  // opaque to this layer
  core::GenerationRequest request;
  std::string idempotency_key = "";  // the Idempotency-Key header; empty = none
  std::string request_hash = "";     // what the request was (RequestFingerprint), with a key
};

// How long an Idempotency-Key names its task.
inline constexpr int64_t kIdempotencyWindowMs = 24LL * 3600 * 1000;
// The detail_code of Submit's kConflict for a key reused with another request (HTTP 409 in
// every dialect).
inline constexpr const char* kIdempotencyKeyReused = "idempotency_key_reused";

class TaskService {
 public:
  // Without prices, tasks are free (nothing is held). `routes` judges at submit whether a
  // provider generates the request as asked.
  TaskService(store::TaskStore& store, const providers::ProviderRegistry& routes, std::shared_ptr<Clock> clock,
              std::function<void()> on_submit = {}, TaskCacheOptions cache = {},
              std::optional<billing::PriceTable> prices = std::nullopt);

  // Prices the request, holds the credits and commits the task in one transaction; returns
  // only after that committed. kInsufficientCredits and no task when the account is short;
  // kUnsupportedModel or kInvalidInput (ProviderRegistry::CheckServed) and nothing held when no
  // configured provider generates the request as asked.
  // With an Idempotency-Key, a submit the key made within the window with the same request
  // returns that task (charged once, however many replays race); another request under the
  // key is kConflict with detail_code "idempotency_key_reused".
  Result<core::Task> Submit(SubmitParams params);
  // kNotFound for unknown ids and for other keys' tasks alike.
  Result<core::Task> Get(const std::string& id, const std::string& key_id);
  // The same, without a copy: the query path renders from the snapshot the cache holds.
  Result<TaskSnapshot> Snapshot(const std::string& id, const std::string& key_id);
  // Cancels a queued task at once, asks a running one to stop; kConflict if already finished.
  Result<core::Task> Cancel(const std::string& id, const std::string& key_id);
  Result<std::vector<core::Task>> ListActive(const std::string& key_id, int limit);
  // The key's tasks in any state, newest first.
  Result<std::vector<core::Task>> ListRecent(const std::string& key_id, int limit);
  // Who generates what, at which sizes (the model lists read it).
  const providers::ProviderRegistry& routes() const { return routes_; }
  // The credits the request would cost; nullopt when billing is off.
  std::optional<int64_t> PriceOf(const core::GenerationRequest& request) const;

 private:
  Result<std::optional<core::Task>> Replay(const SubmitParams& p, int64_t now_ms);

  store::TaskStore& store_;
  const providers::ProviderRegistry& routes_;
  std::shared_ptr<Clock> clock_;
  std::function<void()> on_submit_;
  TaskCache cache_;
  std::optional<billing::PriceTable> prices_;
};

}  // namespace wanserve::tasks
