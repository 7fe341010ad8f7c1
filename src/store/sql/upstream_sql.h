#pragma once
// Upstream jobs in SQL. Callers hold the writer connection and an open transaction.
#include <optional>
#include <string>
#include <vector>

#include "store/sql/connection.h"
#include "store/task_store.h"
#include "store/upstream_store.h"

namespace wanserve::store::sql {

Status BeginUpstreamSubmit(Connection& db, const LeaseToken& lease, const std::string& provider, int64_t now_ms);
Status AbandonUpstreamSubmit(Connection& db, const LeaseToken& lease);
Status RecordUpstreamSubmitted(Connection& db, const LeaseToken& lease, const std::string& upstream_id,
                               int64_t first_poll_ms, int64_t now_ms);
Result<std::optional<UpstreamJob>> FindUpstreamJob(Connection& db, const std::string& task_id);
Result<std::vector<UpstreamJob>> ClaimDuePolls(Connection& db, int64_t now_ms, int64_t lease_ms, int limit);
Status RecordPoll(Connection& db, const UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                  int64_t next_poll_ms);
// A task's job is over once the task is terminal (called inside every terminal transition).
Status CloseUpstreamJob(Connection& db, const std::string& task_id);
// A cancel request wakes the job's poller at once.
Status PollNow(Connection& db, const std::string& task_id, int64_t now_ms);

}  // namespace wanserve::store::sql
