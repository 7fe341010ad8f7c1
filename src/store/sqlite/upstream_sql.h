#pragma once
// Upstream jobs in SQL. Callers hold the writer connection and an open transaction.
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/db.h"
#include "store/task_store.h"
#include "store/upstream_store.h"

namespace wanserve::store::sqlite {

Status BeginUpstreamSubmit(Db& db, const LeaseToken& lease, const std::string& provider, int64_t now_ms);
Status AbandonUpstreamSubmit(Db& db, const LeaseToken& lease);
Status RecordUpstreamSubmitted(Db& db, const LeaseToken& lease, const std::string& upstream_id,
                               int64_t first_poll_ms, int64_t now_ms);
Result<std::optional<UpstreamJob>> FindUpstreamJob(Db& db, const std::string& task_id);
Result<std::vector<UpstreamJob>> ClaimDuePolls(Db& db, int64_t now_ms, int64_t lease_ms, int limit);
Status RecordPoll(Db& db, const UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                  int64_t next_poll_ms);
// A task's job is over once the task is terminal (called inside every terminal transition).
Status CloseUpstreamJob(Db& db, const std::string& task_id);
// A cancel request wakes the job's poller at once.
Status PollNow(Db& db, const std::string& task_id, int64_t now_ms);

}  // namespace wanserve::store::sqlite
