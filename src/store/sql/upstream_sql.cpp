#include "store/sql/upstream_sql.h"

#include <fmt/format.h>

#include <limits>

namespace wanserve::store::sql {
namespace {

constexpr const char* kJobColumns =
    "j.task_id, j.provider, j.state, j.upstream_id, j.submitted_ms, j.next_poll_ms, j.polls, j.last_status, "
    "j.usage_json, t.attempts, t.cancel_requested";

// A lease owned by the poller never expires: the poll claims carry their own lease.
constexpr int64_t kNeverExpires = std::numeric_limits<int64_t>::max();

Result<UpstreamJob> ReadJob(const Statement& s) {
  UpstreamJob j;
  j.task_id = s.Text(0);
  j.provider = s.Text(1);
  const std::string state = s.Text(2);
  if (state == "submitting") {
    j.state = UpstreamJobState::kSubmitting;
  } else if (state == "submitted") {
    j.state = UpstreamJobState::kSubmitted;
  } else if (state == "done") {
    j.state = UpstreamJobState::kDone;
  } else {
    return MakeError(ErrorCode::kInternal, "stored upstream job has an unknown state " + state);
  }
  j.upstream_id = s.Text(3);
  j.submitted_ms = s.Int(4);
  j.next_poll_ms = s.Int(5);
  j.polls = static_cast<int>(s.Int(6));
  j.last_status = s.Text(7);
  j.usage_json = s.Text(8);
  j.attempt = static_cast<int>(s.Int(9));
  j.cancel_requested = s.Int(10) != 0;
  return j;
}

Status CheckLease(Connection& db, const LeaseToken& lease) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "SELECT 1 FROM tasks WHERE id = ?1 AND state = 'running' AND lease_owner = ?2 AND attempts = ?3"));
  s->Bind(1, lease.task_id).Bind(2, lease.owner).Bind(3, lease.attempt);
  ASSIGN_OR_RETURN(bool row, s->Step());
  s->Reset();
  if (!row) return MakeError(ErrorCode::kConflict, "lease lost");
  return Status::Ok();
}

}  // namespace

Status BeginUpstreamSubmit(Connection& db, const LeaseToken& lease, const std::string& provider, int64_t now_ms) {
  RETURN_IF_ERROR(CheckLease(db, lease));
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "INSERT INTO upstream_jobs (task_id, provider, state, created_ms) VALUES (?1, ?2, 'submitting', ?3)"));
  s->Bind(1, lease.task_id).Bind(2, provider).Bind(3, now_ms);
  return s->Exec();
}

Status AbandonUpstreamSubmit(Connection& db, const LeaseToken& lease) {
  RETURN_IF_ERROR(CheckLease(db, lease));
  ASSIGN_OR_RETURN(Statement * s,
                   db.Prepare("DELETE FROM upstream_jobs WHERE task_id = ?1 AND state = 'submitting'"));
  s->Bind(1, lease.task_id);
  return ExpectChanged(s->Run(), "no upstream submit in progress");
}

Status RecordUpstreamSubmitted(Connection& db, const LeaseToken& lease, const std::string& upstream_id,
                               int64_t first_poll_ms, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * t, db.Prepare(
      "UPDATE tasks SET lease_owner = ?1, lease_expires_ms = ?2, updated_ms = ?3, "
      "provider = (SELECT provider FROM upstream_jobs WHERE task_id = ?4) "
      "WHERE id = ?4 AND state = 'running' AND lease_owner = ?5 AND attempts = ?6"));
  t->Bind(1, kUpstreamOwner).Bind(2, kNeverExpires).Bind(3, now_ms).Bind(4, lease.task_id).Bind(5, lease.owner)
      .Bind(6, lease.attempt);
  RETURN_IF_ERROR(ExpectChanged(t->Run(), "lease lost"));
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE upstream_jobs SET state = 'submitted', upstream_id = ?1, submitted_ms = ?2, next_poll_ms = ?3 "
      "WHERE task_id = ?4 AND state = 'submitting'"));
  s->Bind(1, upstream_id).Bind(2, now_ms).Bind(3, first_poll_ms).Bind(4, lease.task_id);
  return ExpectChanged(s->Run(), "no upstream submit in progress");
}

Result<std::optional<UpstreamJob>> FindUpstreamJob(Connection& db, const std::string& task_id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {} FROM upstream_jobs j JOIN tasks t ON t.id = j.task_id WHERE j.task_id = ?1", kJobColumns)));
  s->Bind(1, task_id);
  ASSIGN_OR_RETURN(auto jobs, s->Collect<UpstreamJob>(ReadJob));
  if (jobs.empty()) return std::optional<UpstreamJob>();
  return std::optional<UpstreamJob>(std::move(jobs.front()));
}

Result<std::vector<UpstreamJob>> ClaimDuePolls(Connection& db, int64_t now_ms, int64_t lease_ms, int limit) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {} FROM upstream_jobs j JOIN tasks t ON t.id = j.task_id "
      "WHERE j.state = 'submitted' AND j.next_poll_ms <= ?1 ORDER BY j.next_poll_ms LIMIT ?2{}", kJobColumns,
      SkipLocked(db, "j"))));
  s->Bind(1, now_ms).Bind(2, limit);
  ASSIGN_OR_RETURN(auto jobs, s->Collect<UpstreamJob>(ReadJob));
  ASSIGN_OR_RETURN(Statement * claim, db.Prepare(
      "UPDATE upstream_jobs SET polls = polls + 1, next_poll_ms = ?1 WHERE task_id = ?2 AND polls = ?3"));
  for (auto& job : jobs) {
    claim->Bind(1, now_ms + lease_ms).Bind(2, job.task_id).Bind(3, job.polls);
    RETURN_IF_ERROR(ExpectChanged(claim->Run(), "poll claimed meanwhile"));
    ++job.polls;
    job.next_poll_ms = now_ms + lease_ms;
  }
  return jobs;
}

Status RecordPoll(Connection& db, const UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                  int64_t next_poll_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE upstream_jobs SET last_status = ?1, usage_json = CASE WHEN ?2 = '' THEN usage_json ELSE ?2 END, "
      "next_poll_ms = ?3 WHERE task_id = ?4 AND polls = ?5 AND state = 'submitted'"));
  s->Bind(1, status).Bind(2, usage_json).Bind(3, next_poll_ms).Bind(4, claimed.task_id).Bind(5, claimed.polls);
  return ExpectChanged(s->Run(), "poll claim lost");
}

Status CloseUpstreamJob(Connection& db, const std::string& task_id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("UPDATE upstream_jobs SET state = 'done' WHERE task_id = ?1"));
  s->Bind(1, task_id);
  return s->Exec();
}

Status PollNow(Connection& db, const std::string& task_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE upstream_jobs SET next_poll_ms = ?1 WHERE task_id = ?2 AND state = 'submitted'"));
  s->Bind(1, now_ms).Bind(2, task_id);
  return s->Exec();
}

}  // namespace wanserve::store::sql
