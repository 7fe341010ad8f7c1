#pragma once
// The store methods that change several tables at once, composed from the *_sql pieces and the
// credit rules of billing/credit_policy.h. Each runs inside a transaction its caller (a
// backend) opened and commits; a backend adds only how it serialises and batches them.
#include <string>
#include <vector>

#include "core/task.h"
#include "store/sql/connection.h"
#include "store/task_store.h"

namespace wanserve::store::sql {

// A new queued task with its hold, rate bucket and Idempotency-Key record (TaskStore::Insert).
Result<core::Usage> InsertTaskWithHold(Connection& db, const core::Task& task, const Hold& hold);
// A terminal transition of a running task and everything that goes with it.
Status CompleteTask(Connection& db, const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms);
Status FailTask(Connection& db, const LeaseToken& lease, const core::TaskError& error, int64_t now_ms);
Status FinishCanceledTask(Connection& db, const LeaseToken& lease, int64_t now_ms);
Result<core::Usage> LowerHold(Connection& db, const LeaseToken& lease, int64_t amount, int64_t now_ms);
Result<core::TaskState> RequestCancel(Connection& db, const std::string& id, int64_t now_ms);
Result<RecoveryReport> RecoverExpiredLeases(Connection& db, int64_t now_ms, int max_attempts);
Status InsertAccount(Connection& db, const Account& account, const Grant& initial, int64_t now_ms);
Status GrantCredits(Connection& db, const std::string& account_id, const Grant& grant, int64_t now_ms);

}  // namespace wanserve::store::sql
