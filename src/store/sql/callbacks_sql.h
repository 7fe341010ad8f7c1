#pragma once
// The callback outbox in SQL. Callers hold the writer connection (and, for the writes that
// must be atomic with a task transition, its open transaction).
#include <string>
#include <vector>

#include "core/task.h"
#include "store/callback_store.h"
#include "store/sql/connection.h"

namespace wanserve::store::sql {

// The event a terminal state announces: task.completed, task.failed or task.canceled.
std::string CallbackEvent(core::TaskState state);

// Adds a pending delivery for a task that just finished, if it (or its account) names a
// callback URL.
Status EnqueueCallback(Connection& db, const std::string& task_id, core::TaskState final_state, int64_t now_ms);

Result<std::vector<CallbackDelivery>> ClaimDueCallbacks(Connection& db, int64_t now_ms, int64_t lease_ms, int limit);
Status RecordCallbackAttempt(Connection& db, const CallbackAttempt& attempt, bool delivered, int64_t retry_at_ms,
                             int64_t now_ms);
Result<std::vector<CallbackDelivery>> ListCallbacks(Connection& db, const std::string& task_id);
Result<std::vector<CallbackAttempt>> ListCallbackAttempts(Connection& db, const std::string& callback_id);
Result<CallbackDelivery> ResendCallback(Connection& db, const std::string& task_id, int64_t now_ms);
Result<std::vector<DeadLetter>> ListFailedCallbacks(Connection& db, const std::string& account_id, int limit);
Result<CallbackDelivery> ResendFailedCallback(Connection& db, const std::string& callback_id, int64_t now_ms);
Result<CallbackEndpoint> RecordEndpointResult(Connection& db, const std::string& endpoint, bool ok,
                                              const std::string& error, int64_t now_ms, int64_t disable_after_ms);
Result<std::optional<CallbackEndpoint>> GetCallbackEndpoint(Connection& db, const std::string& endpoint);
Result<std::vector<CallbackEndpoint>> ListCallbackEndpoints(Connection& db);
Status EnableCallbackEndpoint(Connection& db, const std::string& endpoint);

}  // namespace wanserve::store::sql
