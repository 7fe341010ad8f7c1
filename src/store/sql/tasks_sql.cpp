#include "store/sql/tasks_sql.h"

#include <fmt/format.h>

namespace wanserve::store::sql {
namespace {

using core::Task;
using core::TaskState;

constexpr const char* kTaskColumns =
    "id, dialect, key_id, model_alias, client_echo, request_json, state, progress, attempts, "
    "cancel_requested, lease_owner, lease_expires_ms, created_ms, started_ms, finished_ms, "
    "updated_ms, error_class, error_code, error_message, outputs_json, outputs_expired, provider, "
    "usage_total, usage_subscription, usage_permanent, account_id";

// The fence every write to a running task carries, bound at ?N (task id), ?N+1, ?N+2.
std::string LeaseFence(int first) {
  return fmt::format("id = ?{} AND state = 'running' AND lease_owner = ?{} AND attempts = ?{}", first, first + 1,
                     first + 2);
}

Statement& BindLease(Statement& s, int first, const LeaseToken& lease) {
  return s.Bind(first, lease.task_id).Bind(first + 1, lease.owner).Bind(first + 2, lease.attempt);
}

Status ExpectOneRow(const Result<int>& changed) { return ExpectChanged(changed, "task state changed meanwhile"); }

Result<Task> ReadTask(const Statement& s) {
  Task t;
  t.id = s.Text(0);
  t.dialect = s.Text(1);
  t.key_id = s.Text(2);
  t.model_alias = s.Text(3);
  t.client_echo = s.Text(4);
  ASSIGN_OR_RETURN(t.request, core::DecodeRequest(s.Text(5)));
  auto state = core::ParseTaskState(s.Text(6));
  if (!state) return MakeError(ErrorCode::kInternal, "stored task has an unknown state");
  t.state = *state;
  t.progress = static_cast<int>(s.Int(7));
  t.attempts = static_cast<int>(s.Int(8));
  t.cancel_requested = s.Int(9) != 0;
  t.lease_owner = s.Text(10);
  t.lease_expires_ms = s.Int(11);
  t.created_ms = s.Int(12);
  t.started_ms = s.Int(13);
  t.finished_ms = s.Int(14);
  t.updated_ms = s.Int(15);
  if (!s.Text(16).empty()) {
    t.error = core::TaskError{ParseErrorCode(s.Text(16)), s.Text(17), s.Text(18)};
  }
  ASSIGN_OR_RETURN(t.outputs, core::DecodeOutputs(s.Text(19)));
  t.outputs_expired = s.Int(20) != 0;
  t.provider = s.Text(21);
  t.usage = {s.Int(22), s.Int(23), s.Int(24)};
  t.account_id = s.Text(25);
  return t;
}

std::string ReadId(const Statement& s) { return s.Text(0); }

}  // namespace

Status InsertTask(Connection& db, const Task& t, const std::string& account_id, const core::Usage& usage) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "INSERT INTO tasks (id, dialect, key_id, model_alias, client_echo, request_json, state, "
      "created_ms, updated_ms, usage_total, usage_subscription, usage_permanent, account_id, callback_url, route) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  s->Bind(1, t.id).Bind(2, t.dialect).Bind(3, t.key_id).Bind(4, t.model_alias).Bind(5, t.client_echo)
      .Bind(6, core::EncodeRequest(t.request)).Bind(7, t.created_ms).Bind(8, usage.total).Bind(9, usage.subscription)
      .Bind(10, usage.permanent).Bind(11, account_id).Bind(12, t.request.callback_url)
      .Bind(13, core::RouteOf(t.request.model, t.request.kind));
  return s->Exec();
}

Result<Task> GetTask(Connection& db, const std::string& id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format("SELECT {} FROM tasks WHERE id = ?1", kTaskColumns)));
  s->Bind(1, id);
  return s->One<Task>(ReadTask, "task not found");
}

Status ClaimIdempotencyKey(Connection& db, const std::string& key_id, const IdempotencyClaim& claim, const std::string& task_id,
                           int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "INSERT INTO idempotency_keys (key_id, idempotency_key, request_hash, task_id, created_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key_id, idempotency_key) DO UPDATE SET "
      "request_hash = excluded.request_hash, task_id = excluded.task_id, created_ms = excluded.created_ms "
      "WHERE idempotency_keys.created_ms < ?6"));
  s->Bind(1, key_id).Bind(2, claim.idempotency_key).Bind(3, claim.request_hash).Bind(4, task_id).Bind(5, now_ms)
      .Bind(6, claim.since_ms);
  ASSIGN_OR_RETURN(int changed, s->Run());
  if (changed == 0) {
    Error e = MakeError(ErrorCode::kConflict, "the Idempotency-Key names another task");
    e.detail_code = kIdempotencyKeyTaken;
    return e;
  }
  return Status::Ok();
}

Result<std::optional<IdempotentSubmit>> FindIdempotentSubmit(Connection& db, const std::string& key_id,
                                                            const std::string& idempotency_key, int64_t since_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "SELECT task_id, request_hash FROM idempotency_keys "
      "WHERE key_id = ?1 AND idempotency_key = ?2 AND created_ms >= ?3"));
  s->Bind(1, key_id).Bind(2, idempotency_key).Bind(3, since_ms);
  ASSIGN_OR_RETURN(auto found, s->Collect<IdempotentSubmit>([](const Statement& row) {
    return IdempotentSubmit{row.Text(0), row.Text(1)};
  }));
  if (found.empty()) return std::optional<IdempotentSubmit>();
  return std::optional<IdempotentSubmit>(std::move(found.front()));
}

Result<int> PruneIdempotencyKeys(Connection& db, int64_t before_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("DELETE FROM idempotency_keys WHERE created_ms < ?1"));
  s->Bind(1, before_ms);
  return s->Run();
}

Result<std::vector<Task>> ListActive(Connection& db, const std::string& key_id, int limit) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {} FROM tasks WHERE key_id = ?1 AND state IN ('queued','running') ORDER BY created_ms, rowid LIMIT ?2",
      kTaskColumns)));
  s->Bind(1, key_id).Bind(2, limit);
  return s->Collect<Task>(ReadTask);
}

// Newest first in any state. Each state's newest come from the (key_id, state, created_ms)
// index, so a key with a long history costs limit rows per state, not a sort of all of them.
Result<std::vector<Task>> ListRecent(Connection& db, const std::string& key_id, int limit) {
  std::string newest;
  for (const char* state : {"queued", "running", "succeeded", "failed", "canceled"}) {
    newest += fmt::format("{}SELECT rowid FROM (SELECT rowid FROM tasks WHERE key_id = ?1 AND state = '{}' "
                          "ORDER BY created_ms DESC, rowid DESC LIMIT ?2) AS {}",
                          newest.empty() ? "" : " UNION ALL ", state, state);
  }
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {} FROM tasks WHERE rowid IN ({}) ORDER BY created_ms DESC, rowid DESC LIMIT ?2", kTaskColumns, newest)));
  s->Bind(1, key_id).Bind(2, limit);
  return s->Collect<Task>(ReadTask);
}

Result<std::optional<Task>> ClaimNext(Connection& db, const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                      const std::vector<std::string>& routes) {
  // The routes travel as one parameter, ",a,b,", so the statement stays one prepared statement.
  std::string route_list;
  for (const auto& r : routes) route_list += "," + r;
  if (!route_list.empty()) route_list += ",";
  const char* contains = db.dialect() == Dialect::kPostgres ? "strpos(?4, ',' || route || ',') > 0"
                                                             : "instr(?4, ',' || route || ',') > 0";
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "UPDATE tasks SET state = 'running', attempts = attempts + 1, lease_owner = ?1, "
      "lease_expires_ms = ?2, started_ms = CASE WHEN started_ms = 0 THEN ?3 ELSE started_ms END, "
      "updated_ms = ?3 "
      "WHERE id = (SELECT id FROM tasks WHERE state = 'queued' AND (?4 = '' OR route = '' OR {}) "
      "ORDER BY created_ms, rowid LIMIT 1{}) AND state = 'queued' RETURNING {}",
      contains, SkipLocked(db), kTaskColumns)));
  s->Bind(1, owner).Bind(2, now_ms + lease_ms).Bind(3, now_ms).Bind(4, route_list);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<Task>();
  auto t = ReadTask(*s);
  // Finish the statement so the write is applied before the caller lets go of the connection.
  auto rest = s->Run();
  if (!rest.ok()) return rest.error();
  if (!t.ok()) return t.error();
  return std::optional<Task>(std::move(t).value());
}

Result<bool> RenewLease(Connection& db, const LeaseToken& lease, int64_t now_ms, int64_t lease_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE tasks SET lease_expires_ms = ?1 WHERE " + LeaseFence(2) + " RETURNING cancel_requested"));
  BindLease(s->Bind(1, now_ms + lease_ms), 2, lease);
  ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return MakeError(ErrorCode::kConflict, "lease lost");
  const bool cancel = s->Int(0) != 0;
  auto rest = s->Run();
  if (!rest.ok()) return rest.error();
  return cancel;
}

Status UpdateProgress(Connection& db, const LeaseToken& lease, int progress, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s,
                   db.Prepare("UPDATE tasks SET progress = ?1, updated_ms = ?2 WHERE " + LeaseFence(3)));
  BindLease(s->Bind(1, progress).Bind(2, now_ms), 3, lease);
  return ExpectOneRow(s->Run());
}

Status SetProvider(Connection& db, const LeaseToken& lease, const std::string& provider) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("UPDATE tasks SET provider = ?1 WHERE " + LeaseFence(2)));
  BindLease(s->Bind(1, provider), 2, lease);
  return ExpectOneRow(s->Run());
}

Status MarkSucceeded(Connection& db, const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE tasks SET state = 'succeeded', progress = 100, outputs_json = ?1, finished_ms = ?2, updated_ms = ?2, "
      "lease_owner = '', lease_expires_ms = 0 WHERE " + LeaseFence(3)));
  BindLease(s->Bind(1, core::EncodeOutputs(outputs)).Bind(2, now_ms), 3, lease);
  return ExpectOneRow(s->Run());
}

Status MarkFailed(Connection& db, const LeaseToken& lease, const core::TaskError& error, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE tasks SET state = 'failed', error_class = ?1, error_code = ?2, error_message = ?3, finished_ms = ?4, "
      "updated_ms = ?4, lease_owner = '', lease_expires_ms = 0 WHERE " + LeaseFence(5)));
  BindLease(s->Bind(1, ToString(error.code)).Bind(2, error.detail_code).Bind(3, error.message).Bind(4, now_ms), 5,
            lease);
  return ExpectOneRow(s->Run());
}

Status MarkCanceled(Connection& db, const LeaseToken& lease, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE tasks SET state = 'canceled', error_class = 'canceled', error_code = 'canceled', "
      "error_message = 'canceled by request', finished_ms = ?1, updated_ms = ?1, lease_owner = '', "
      "lease_expires_ms = 0 WHERE " + LeaseFence(2)));
  BindLease(s->Bind(1, now_ms), 2, lease);
  return ExpectOneRow(s->Run());
}

Status Release(Connection& db, const LeaseToken& lease, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE tasks SET state = 'queued', progress = 0, attempts = attempts - 1, lease_owner = '', "
      "lease_expires_ms = 0, updated_ms = ?1 WHERE " + LeaseFence(2)));
  BindLease(s->Bind(1, now_ms), 2, lease);
  return ExpectOneRow(s->Run());
}

Result<core::Usage> ReadLeasedUsage(Connection& db, const LeaseToken& lease) {
  ASSIGN_OR_RETURN(Statement * t, db.Prepare(
      "SELECT usage_total, usage_subscription, usage_permanent FROM tasks WHERE " + LeaseFence(1)));
  BindLease(*t, 1, lease);
  ASSIGN_OR_RETURN(bool row, t->Step());
  if (!row) return MakeError(ErrorCode::kConflict, "lease lost");
  core::Usage usage{t->Int(0), t->Int(1), t->Int(2)};
  t->Reset();
  return usage;
}

Status SetUsage(Connection& db, const std::string& task_id, const core::Usage& usage) {
  ASSIGN_OR_RETURN(Statement * u, db.Prepare(
      "UPDATE tasks SET usage_total = ?1, usage_subscription = ?2, usage_permanent = ?3 WHERE id = ?4"));
  u->Bind(1, usage.total).Bind(2, usage.subscription).Bind(3, usage.permanent).Bind(4, task_id);
  return ExpectOneRow(u->Run());
}

Result<TaskState> ReadState(Connection& db, const std::string& id) {
  ASSIGN_OR_RETURN(Statement * get, db.Prepare("SELECT state FROM tasks WHERE id = ?1"));
  get->Bind(1, id);
  ASSIGN_OR_RETURN(bool row, get->Step());
  if (!row) return MakeError(ErrorCode::kNotFound, "task not found");
  auto state = core::ParseTaskState(get->Text(0));
  get->Reset();
  if (!state) return MakeError(ErrorCode::kInternal, "stored task has an unknown state");
  return *state;
}

Status CancelQueued(Connection& db, const std::string& id, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE tasks SET state = 'canceled', cancel_requested = 1, error_class = 'canceled', "
      "error_code = 'canceled', error_message = 'canceled by request', finished_ms = ?1, "
      "updated_ms = ?1 WHERE id = ?2 AND state = 'queued'"));
  s->Bind(1, now_ms).Bind(2, id);
  return ExpectOneRow(s->Run());
}

Status FlagCancel(Connection& db, const std::string& id, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE tasks SET cancel_requested = 1, updated_ms = ?1 WHERE id = ?2 AND state = 'running'"));
  s->Bind(1, now_ms).Bind(2, id);
  return ExpectOneRow(s->Run());
}

Result<std::vector<std::string>> CancelExpiredCanceling(Connection& db, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * c, db.Prepare(
      "UPDATE tasks SET state = 'canceled', error_class = 'canceled', error_code = 'canceled', "
      "error_message = 'canceled by request', finished_ms = ?1, updated_ms = ?1, lease_owner = '', "
      "lease_expires_ms = 0 WHERE id IN (SELECT id FROM tasks WHERE state = 'running' AND lease_expires_ms < ?1 "
      "AND cancel_requested = 1" + SkipLocked(db) + ") RETURNING id"));
  c->Bind(1, now_ms);
  return c->Collect<std::string>(ReadId);
}

Result<std::vector<std::string>> FailExpiredExhausted(Connection& db, int64_t now_ms, int max_attempts) {
  ASSIGN_OR_RETURN(Statement * f, db.Prepare(
      "UPDATE tasks SET state = 'failed', error_class = 'internal', error_code = 'lease_expired', "
      "error_message = ?2, finished_ms = ?1, updated_ms = ?1, lease_owner = '', lease_expires_ms = 0 "
      "WHERE id IN (SELECT id FROM tasks WHERE state = 'running' AND lease_expires_ms < ?1 AND attempts >= ?3" +
      SkipLocked(db) + ") RETURNING id"));
  f->Bind(1, now_ms)
      .Bind(2, fmt::format("the worker running this task stopped {} times; giving up", max_attempts))
      .Bind(3, max_attempts);
  return f->Collect<std::string>(ReadId);
}

Result<int> RequeueExpired(Connection& db, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * q, db.Prepare(
      "UPDATE tasks SET state = 'queued', progress = 0, lease_owner = '', lease_expires_ms = 0, updated_ms = ?1 "
      "WHERE id IN (SELECT id FROM tasks WHERE state = 'running' AND lease_expires_ms < ?1" + SkipLocked(db) + ")"));
  q->Bind(1, now_ms);
  return q->Run();
}

Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(Connection& db, int64_t cutoff_ms, int limit) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "SELECT id, outputs_json FROM tasks WHERE state = 'succeeded' AND outputs_expired = 0 "
      "AND finished_ms < ?1 ORDER BY finished_ms LIMIT ?2"));
  s->Bind(1, cutoff_ms).Bind(2, limit);
  return s->Collect<ExpiredOutputs>([](const Statement& row) -> Result<ExpiredOutputs> {
    ASSIGN_OR_RETURN(auto outputs, core::DecodeOutputs(row.Text(1)));
    return ExpiredOutputs{row.Text(0), std::move(outputs)};
  });
}

Status MarkOutputsExpired(Connection& db, const std::string& task_id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("UPDATE tasks SET outputs_expired = 1 WHERE id = ?1"));
  s->Bind(1, task_id);
  return ExpectOneRow(s->Run());
}

Result<std::map<TaskState, int64_t>> CountByState(Connection& db) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT state, COUNT(*) FROM tasks GROUP BY state"));
  std::map<TaskState, int64_t> counts;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (auto st = core::ParseTaskState(s->Text(0))) counts[*st] = s->Int(1);
  }
  return counts;
}

}  // namespace wanserve::store::sql
