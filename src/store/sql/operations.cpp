#include "store/sql/operations.h"

#include <fmt/format.h>

#include "billing/credit_policy.h"
#include "store/sql/accounts_sql.h"
#include "store/sql/callbacks_sql.h"
#include "store/sql/ledger_sql.h"
#include "store/sql/tasks_sql.h"
#include "store/sql/upstream_sql.h"

namespace wanserve::store::sql {
namespace {

using core::TaskState;

// Everything that happens with a task's terminal transition, in its transaction: the hold
// is settled (the unique index on settlements makes a second one fail, and with it the
// whole transition), the upstream job closed, and the callback (if any) put in the outbox.
Status SettleFinished(Connection& db, const std::string& task_id, TaskState final_state, int64_t now_ms) {
  ASSIGN_OR_RETURN(std::optional<TaskHold> hold, ReadHold(db, task_id));
  if (hold) {
    const billing::Settlement settled = billing::PlanSettlement(hold->held, final_state == TaskState::kSucceeded, now_ms);
    RETURN_IF_ERROR(AppendEntries(db, hold->account_id, task_id, settled.entries, now_ms));
    // A capture keeps the usage as held; only a release changes the row again.
    if (settled.usage_after.total != hold->held.total()) {
      RETURN_IF_ERROR(SetUsage(db, task_id, settled.usage_after));
    }
  }
  RETURN_IF_ERROR(CloseUpstreamJob(db, task_id));
  return EnqueueCallback(db, task_id, final_state, now_ms);
}

}  // namespace

// The credit rules judge the submit on what this transaction reads (the account row is read
// for update, so other submits of the account wait); the plan's bucket, ledger rows and the
// task are written together.
Result<core::Usage> InsertTaskWithHold(Connection& db, const core::Task& t, const Hold& hold) {
  const std::string& account_id = hold.account_id.empty() ? t.account_id : hold.account_id;
  ASSIGN_OR_RETURN(billing::SubmitInputs inputs, ReadSubmitInputs(db, account_id, hold.key_id, hold.amount, t.created_ms));
  ASSIGN_OR_RETURN(billing::SubmitPlan plan, billing::PlanSubmit(inputs));
  if (plan.bucket) RETURN_IF_ERROR(WriteRateBucket(db, hold.key_id, *plan.bucket));
  RETURN_IF_ERROR(AppendEntries(db, account_id, t.id, plan.entries, t.created_ms));
  RETURN_IF_ERROR(InsertTask(db, t, account_id, plan.usage));
  if (!hold.idempotency.idempotency_key.empty()) {
    RETURN_IF_ERROR(ClaimIdempotencyKey(db, t.key_id, hold.idempotency, t.id, t.created_ms));
  }
  return plan.usage;
}

Status CompleteTask(Connection& db, const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms) {
  RETURN_IF_ERROR(MarkSucceeded(db, lease, outputs, now_ms));
  return SettleFinished(db, lease.task_id, TaskState::kSucceeded, now_ms);
}

Status FailTask(Connection& db, const LeaseToken& lease, const core::TaskError& error, int64_t now_ms) {
  RETURN_IF_ERROR(MarkFailed(db, lease, error, now_ms));
  return SettleFinished(db, lease.task_id, TaskState::kFailed, now_ms);
}

Status FinishCanceledTask(Connection& db, const LeaseToken& lease, int64_t now_ms) {
  RETURN_IF_ERROR(MarkCanceled(db, lease, now_ms));
  return SettleFinished(db, lease.task_id, TaskState::kCanceled, now_ms);
}

Result<core::Usage> LowerHold(Connection& db, const LeaseToken& lease, int64_t amount, int64_t now_ms) {
  ASSIGN_OR_RETURN(core::Usage usage, ReadLeasedUsage(db, lease));
  ASSIGN_OR_RETURN(std::optional<TaskHold> hold, ReadHold(db, lease.task_id));
  if (!hold) return usage;
  std::optional<billing::Settlement> lowered = billing::PlanLowerHold(hold->held, amount, now_ms);
  if (!lowered) return usage;
  RETURN_IF_ERROR(AppendEntries(db, hold->account_id, lease.task_id, lowered->entries, now_ms));
  RETURN_IF_ERROR(SetUsage(db, lease.task_id, lowered->usage_after));
  return lowered->usage_after;
}

Result<TaskState> RequestCancel(Connection& db, const std::string& id, int64_t now_ms) {
  ASSIGN_OR_RETURN(TaskState state, ReadState(db, id));
  if (core::IsTerminal(state)) {
    return MakeError(ErrorCode::kConflict, fmt::format("task is already {}", core::ToString(state)));
  }
  if (state == TaskState::kQueued) {
    // The compare-and-swap decides a race with a claim: kConflict then, and the caller asks again.
    RETURN_IF_ERROR(CancelQueued(db, id, now_ms));
    RETURN_IF_ERROR(SettleFinished(db, id, TaskState::kCanceled, now_ms));
    return TaskState::kCanceled;
  }
  RETURN_IF_ERROR(FlagCancel(db, id, now_ms));
  RETURN_IF_ERROR(PollNow(db, id, now_ms));
  return TaskState::kRunning;
}

Result<RecoveryReport> RecoverExpiredLeases(Connection& db, int64_t now_ms, int max_attempts) {
  RecoveryReport report;
  // A canceled-while-running task whose worker died is finished as canceled, not retried.
  ASSIGN_OR_RETURN(auto canceled, CancelExpiredCanceling(db, now_ms));
  ASSIGN_OR_RETURN(auto failed, FailExpiredExhausted(db, now_ms, max_attempts));
  report.failed = static_cast<int>(failed.size());
  for (const auto& id : canceled) RETURN_IF_ERROR(SettleFinished(db, id, TaskState::kCanceled, now_ms));
  for (const auto& id : failed) RETURN_IF_ERROR(SettleFinished(db, id, TaskState::kFailed, now_ms));
  ASSIGN_OR_RETURN(report.requeued, RequeueExpired(db, now_ms));
  return report;
}

Status InsertAccount(Connection& db, const Account& a, const Grant& initial, int64_t now_ms) {
  RETURN_IF_ERROR(InsertAccountRow(db, a, now_ms));
  if (initial.subscription == 0 && initial.permanent == 0) return Status::Ok();
  return GrantCredits(db, a.id, initial, now_ms);
}

Status GrantCredits(Connection& db, const std::string& account_id, const Grant& g, int64_t now_ms) {
  ASSIGN_OR_RETURN(std::optional<billing::AccountState> account, ReadAccountState(db, account_id));
  if (!account) return MakeError(ErrorCode::kNotFound, "no account " + account_id);
  ASSIGN_OR_RETURN(auto entries, billing::PlanGrant(*account, g.subscription, g.permanent, g.reason, now_ms));
  RETURN_IF_ERROR(AppendEntries(db, account_id, "", entries, now_ms));
  if (g.subscription > 0) RETURN_IF_ERROR(SetSubscriptionExpiry(db, account_id, g.subscription_expires_ms));
  return Status::Ok();
}

}  // namespace wanserve::store::sql
