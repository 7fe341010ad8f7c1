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
#include "store/sqlite/db.h"
#include "store/task_store.h"

namespace wanserve::store::sqlite {

// A new queued task charged `usage` on account_id; kConflict if the id exists.
Status InsertTask(Db& db, const core::Task& task, const std::string& account_id, const core::Usage& usage);
Result<core::Task> GetTask(Db& db, const std::string& id);

// Records the task under its Idempotency-Key, taking over a record older than since_ms;
// kConflict with detail_code kIdempotencyKeyTaken when a live record holds the key.
Status ClaimIdempotencyKey(Db& db, const std::string& key_id, const IdempotencyClaim& claim, const std::string& task_id,
                           int64_t now_ms);
Result<std::optional<IdempotentSubmit>> FindIdempotentSubmit(Db& db, const std::string& key_id,
                                                            const std::string& idempotency_key, int64_t since_ms);
Result<int> PruneIdempotencyKeys(Db& db, int64_t before_ms);
Result<std::vector<core::Task>> ListActive(Db& db, const std::string& key_id, int limit);

Result<std::optional<core::Task>> ClaimNext(Db& db, const std::string& owner, int64_t now_ms, int64_t lease_ms);
// Returns the cancel flag.
Result<bool> RenewLease(Db& db, const LeaseToken& lease, int64_t now_ms, int64_t lease_ms);
Status UpdateProgress(Db& db, const LeaseToken& lease, int progress, int64_t now_ms);
Status SetProvider(Db& db, const LeaseToken& lease, const std::string& provider);
// The terminal transitions of a running task; the caller settles its credits in the same
// transaction.
Status MarkSucceeded(Db& db, const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms);
Status MarkFailed(Db& db, const LeaseToken& lease, const core::TaskError& error, int64_t now_ms);
Status MarkCanceled(Db& db, const LeaseToken& lease, int64_t now_ms);
// running -> queued without counting the attempt.
Status Release(Db& db, const LeaseToken& lease, int64_t now_ms);
// The usage of the running task the lease holds.
Result<core::Usage> ReadLeasedUsage(Db& db, const LeaseToken& lease);
Status SetUsage(Db& db, const std::string& task_id, const core::Usage& usage);

// kNotFound when absent.
Result<core::TaskState> ReadState(Db& db, const std::string& id);
Status CancelQueued(Db& db, const std::string& id, int64_t now_ms);
Status FlagCancel(Db& db, const std::string& id, int64_t now_ms);

// Running tasks whose lease expired before now_ms: those asked to cancel end canceled, those
// that used max_attempts fail (ids returned, for their settlement), the rest are queued again.
Result<std::vector<std::string>> CancelExpiredCanceling(Db& db, int64_t now_ms);
Result<std::vector<std::string>> FailExpiredExhausted(Db& db, int64_t now_ms, int max_attempts);
Result<int> RequeueExpired(Db& db, int64_t now_ms);

Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(Db& db, int64_t cutoff_ms, int limit);
Status MarkOutputsExpired(Db& db, const std::string& task_id);
Result<std::map<core::TaskState, int64_t>> CountByState(Db& db);

}  // namespace wanserve::store::sqlite
