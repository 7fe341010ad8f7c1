#pragma once
// Task rows in SQL. Every write to a running task is fenced on its lease owner and attempt;
// each returns kConflict when the fence (or the expected state) no longer holds. Callers hold
// the writer connection (and a transaction where a write must be atomic with others) or a
// reader.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/task.h"
#include "store/sql/connection.h"
#include "store/task_store.h"

namespace wanserve::store::sql {

// A new queued task charged `usage` on account_id; kConflict if the id exists.
Status InsertTask(Connection& db, const core::Task& task, const std::string& account_id, const core::Usage& usage);
Result<core::Task> GetTask(Connection& db, const std::string& id);

// Records the task under its Idempotency-Key, taking over a record older than since_ms;
// kConflict with detail_code kIdempotencyKeyTaken when a live record holds the key.
Status ClaimIdempotencyKey(Connection& db, const std::string& key_id, const IdempotencyClaim& claim, const std::string& task_id,
                           int64_t now_ms);
Result<std::optional<IdempotentSubmit>> FindIdempotentSubmit(Connection& db, const std::string& key_id,
                                                            const std::string& idempotency_key, int64_t since_ms);
Result<int> PruneIdempotencyKeys(Connection& db, int64_t before_ms);
Result<std::vector<core::Task>> ListActive(Connection& db, const std::string& key_id, int limit);
Result<std::vector<core::Task>> ListRecent(Connection& db, const std::string& key_id, int limit);

// routes: the task routes the claimer serves (core::RouteOf); empty = any.
Result<std::optional<core::Task>> ClaimNext(Connection& db, const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                            const std::vector<std::string>& routes);
// Returns the cancel flag.
Result<bool> RenewLease(Connection& db, const LeaseToken& lease, int64_t now_ms, int64_t lease_ms);
Status UpdateProgress(Connection& db, const LeaseToken& lease, int progress, int64_t now_ms);
Status SetProvider(Connection& db, const LeaseToken& lease, const std::string& provider);
// The terminal transitions of a running task; the caller settles its credits in the same
// transaction.
Status MarkSucceeded(Connection& db, const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms);
Status MarkFailed(Connection& db, const LeaseToken& lease, const core::TaskError& error, int64_t now_ms);
Status MarkCanceled(Connection& db, const LeaseToken& lease, int64_t now_ms);
// running -> queued without counting the attempt.
Status Release(Connection& db, const LeaseToken& lease, int64_t now_ms);
// The usage of the running task the lease holds.
Result<core::Usage> ReadLeasedUsage(Connection& db, const LeaseToken& lease);
Status SetUsage(Connection& db, const std::string& task_id, const core::Usage& usage);

// kNotFound when absent.
Result<core::TaskState> ReadState(Connection& db, const std::string& id);
Status CancelQueued(Connection& db, const std::string& id, int64_t now_ms);
Status FlagCancel(Connection& db, const std::string& id, int64_t now_ms);

// Running tasks whose lease expired before now_ms: those asked to cancel end canceled, those
// that used max_attempts fail (ids returned, for their settlement), the rest are queued again.
Result<std::vector<std::string>> CancelExpiredCanceling(Connection& db, int64_t now_ms);
Result<std::vector<std::string>> FailExpiredExhausted(Connection& db, int64_t now_ms, int max_attempts);
Result<int> RequeueExpired(Connection& db, int64_t now_ms);

Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(Connection& db, int64_t cutoff_ms, int limit);
Status MarkOutputsExpired(Connection& db, const std::string& task_id);
Result<std::map<core::TaskState, int64_t>> CountByState(Connection& db);

}  // namespace wanserve::store::sql
