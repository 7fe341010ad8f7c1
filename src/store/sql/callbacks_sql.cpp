#include "store/sql/callbacks_sql.h"

#include <fmt/format.h>

#include "common/crypto.h"

namespace wanserve::store::sql {
namespace {

constexpr const char* kDeliveryColumns =
    "id, task_id, account_id, url, event, state, attempts, next_attempt_ms, created_ms, finished_ms, resent_as";
constexpr const char* kEndpointColumns =
    "endpoint, consecutive_failures, failing_since_ms, last_attempt_ms, last_error, disabled_ms";

Result<CallbackDelivery> ReadDelivery(const Statement& s) {
  CallbackDelivery d;
  d.id = s.Text(0);
  d.task_id = s.Text(1);
  d.account_id = s.Text(2);
  d.url = s.Text(3);
  d.event = s.Text(4);
  const std::string state = s.Text(5);
  if (state == "pending") {
    d.state = DeliveryState::kPending;
  } else if (state == "delivered") {
    d.state = DeliveryState::kDelivered;
  } else if (state == "failed") {
    d.state = DeliveryState::kFailed;
  } else {
    return MakeError(ErrorCode::kInternal, "stored callback has an unknown state " + state);
  }
  d.attempts = static_cast<int>(s.Int(6));
  d.next_attempt_ms = s.Int(7);
  d.created_ms = s.Int(8);
  d.finished_ms = s.Int(9);
  d.resent_as = s.Text(10);
  return d;
}

CallbackEndpoint ReadEndpoint(const Statement& s) {
  return {s.Text(0), static_cast<int>(s.Int(1)), s.Int(2), s.Int(3), s.Text(4), s.Int(5)};
}

Result<CallbackDelivery> DeliveryById(Connection& db, const std::string& id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format("SELECT {} FROM callbacks WHERE id = ?1", kDeliveryColumns)));
  s->Bind(1, id);
  return s->One<CallbackDelivery>(ReadDelivery, "no callback " + id);
}

CallbackAttempt ReadAttempt(const Statement& s) {
  return {s.Text(0), static_cast<int>(s.Int(1)), s.Int(2), s.Int(3), static_cast<int>(s.Int(4)), s.Text(5)};
}

std::string NewDeliveryId() {
  return "msg_" + RandomString(24, "0123456789abcdefghijklmnopqrstuvwxyz");
}

// Inserts a delivery of the task's terminal event to its own callback URL or, failing that,
// its account's default endpoint. Returns the new id, or empty when there is nowhere to send.
Result<std::string> InsertDelivery(Connection& db, const std::string& task_id, const std::string& event, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "INSERT INTO callbacks (id, task_id, account_id, url, event, state, next_attempt_ms, created_ms) "
      "SELECT ?1, t.id, t.account_id, CASE WHEN t.callback_url != '' THEN t.callback_url ELSE a.webhook_url END, "
      "?2, 'pending', ?3, ?3 FROM tasks t JOIN accounts a ON a.id = t.account_id "
      "WHERE t.id = ?4 AND (t.callback_url != '' OR a.webhook_url != '')"));
  std::string id = NewDeliveryId();
  s->Bind(1, id).Bind(2, event).Bind(3, now_ms).Bind(4, task_id);
  ASSIGN_OR_RETURN(int added, s->Run());
  return added ? id : std::string();
}

}  // namespace

std::string CallbackEvent(core::TaskState state) {
  switch (state) {
    case core::TaskState::kSucceeded:
      return "task.completed";
    case core::TaskState::kFailed:
      return "task.failed";
    case core::TaskState::kCanceled:
      return "task.canceled";
    default:
      return "task." + std::string(core::ToString(state));
  }
}

Status EnqueueCallback(Connection& db, const std::string& task_id, core::TaskState final_state, int64_t now_ms) {
  auto id = InsertDelivery(db, task_id, CallbackEvent(final_state), now_ms);
  return id.ok() ? Status::Ok() : Status(id.error());
}

Result<std::vector<CallbackDelivery>> ClaimDueCallbacks(Connection& db, int64_t now_ms, int64_t lease_ms, int limit) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "UPDATE callbacks SET attempts = attempts + 1, next_attempt_ms = ?2 WHERE id IN ("
      "SELECT id FROM callbacks WHERE state = 'pending' AND next_attempt_ms <= ?1 "
      "ORDER BY next_attempt_ms LIMIT ?3{}) RETURNING {}", SkipLocked(db), kDeliveryColumns)));
  s->Bind(1, now_ms).Bind(2, now_ms + lease_ms).Bind(3, limit);
  return s->Collect<CallbackDelivery>(ReadDelivery);
}

Status RecordCallbackAttempt(Connection& db, const CallbackAttempt& a, bool delivered, int64_t retry_at_ms, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * u, db.Prepare(
      "UPDATE callbacks SET state = ?1, next_attempt_ms = ?2, finished_ms = ?3 "
      "WHERE id = ?4 AND attempts = ?5 AND state = 'pending'"));
  const bool retry = !delivered && retry_at_ms > 0;
  u->Bind(1, delivered ? "delivered" : (retry ? "pending" : "failed")).Bind(2, retry ? retry_at_ms : 0)
      .Bind(3, retry ? 0 : now_ms).Bind(4, a.callback_id).Bind(5, a.attempt);
  ASSIGN_OR_RETURN(int changed, u->Run());
  if (changed == 0) {
    return MakeError(ErrorCode::kConflict, fmt::format("callback {} attempt {} is no longer ours", a.callback_id, a.attempt));
  }
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "INSERT INTO callback_attempts (callback_id, attempt, started_ms, latency_ms, status_code, error) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  s->Bind(1, a.callback_id).Bind(2, a.attempt).Bind(3, a.started_ms).Bind(4, a.latency_ms).Bind(5, a.status_code)
      .Bind(6, a.error);
  return s->Exec();
}

Result<std::vector<CallbackDelivery>> ListCallbacks(Connection& db, const std::string& task_id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {} FROM callbacks WHERE task_id = ?1 ORDER BY created_ms, rowid", kDeliveryColumns)));
  s->Bind(1, task_id);
  return s->Collect<CallbackDelivery>(ReadDelivery);
}

Result<std::vector<CallbackAttempt>> ListCallbackAttempts(Connection& db, const std::string& callback_id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "SELECT callback_id, attempt, started_ms, latency_ms, status_code, error FROM callback_attempts "
      "WHERE callback_id = ?1 ORDER BY attempt"));
  s->Bind(1, callback_id);
  return s->Collect<CallbackAttempt>(ReadAttempt);
}

Result<CallbackDelivery> ResendCallback(Connection& db, const std::string& task_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * t, db.Prepare("SELECT state FROM tasks WHERE id = ?1"));
  t->Bind(1, task_id);
  ASSIGN_OR_RETURN(std::string state_text, t->One<std::string>([](const Statement& s) { return s.Text(0); },
                                                                "no task " + task_id));
  auto state = core::ParseTaskState(state_text);
  if (!state || !core::IsTerminal(*state)) {
    return MakeError(ErrorCode::kConflict, fmt::format("task {} is still {}", task_id, state_text));
  }
  ASSIGN_OR_RETURN(std::string id, InsertDelivery(db, task_id, CallbackEvent(*state), now_ms));
  if (id.empty()) return MakeError(ErrorCode::kNotFound, fmt::format("task {} has no callback URL", task_id));
  return DeliveryById(db, id);
}

Result<std::vector<DeadLetter>> ListFailedCallbacks(Connection& db, const std::string& account_id, int limit) {
  // The last attempt of each in the same query: a listing of a thousand is one round trip.
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {0}, "
      "COALESCE((SELECT status_code FROM callback_attempts a WHERE a.callback_id = c.id ORDER BY attempt DESC LIMIT 1), 0), "
      "COALESCE((SELECT error FROM callback_attempts a WHERE a.callback_id = c.id ORDER BY attempt DESC LIMIT 1), '') "
      "FROM callbacks c WHERE state = 'failed' AND resent_as = '' AND (?1 = '' OR account_id = ?1) "
      "ORDER BY created_ms, id LIMIT ?2", kDeliveryColumns)));
  s->Bind(1, account_id).Bind(2, limit);
  return s->Collect<DeadLetter>([](const Statement& row) -> Result<DeadLetter> {
    ASSIGN_OR_RETURN(CallbackDelivery delivery, ReadDelivery(row));
    return DeadLetter{std::move(delivery), static_cast<int>(row.Int(11)), row.Text(12)};
  });
}

Result<CallbackDelivery> ResendFailedCallback(Connection& db, const std::string& callback_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(CallbackDelivery old, DeliveryById(db, callback_id));
  if (old.state != DeliveryState::kFailed || !old.resent_as.empty()) {
    return MakeError(ErrorCode::kConflict, fmt::format("callback {} is not a dead letter ({})", callback_id,
                                                       old.resent_as.empty() ? "not given up" : "resent as " + old.resent_as));
  }
  const std::string id = NewDeliveryId();
  ASSIGN_OR_RETURN(Statement * insert, db.Prepare(
      "INSERT INTO callbacks (id, task_id, account_id, url, event, state, next_attempt_ms, created_ms) "
      "SELECT ?1, task_id, account_id, url, event, 'pending', ?2, ?2 FROM callbacks WHERE id = ?3"));
  insert->Bind(1, id).Bind(2, now_ms).Bind(3, callback_id);
  RETURN_IF_ERROR(insert->Exec());
  // The condition makes two concurrent resends of one dead letter leave one new delivery.
  ASSIGN_OR_RETURN(Statement * mark, db.Prepare(
      "UPDATE callbacks SET resent_as = ?1 WHERE id = ?2 AND state = 'failed' AND resent_as = ''"));
  mark->Bind(1, id).Bind(2, callback_id);
  ASSIGN_OR_RETURN(int marked, mark->Run());
  if (marked == 0) return MakeError(ErrorCode::kConflict, fmt::format("callback {} was resent meanwhile", callback_id));
  return DeliveryById(db, id);
}

Result<CallbackEndpoint> RecordEndpointResult(Connection& db, const std::string& endpoint, bool ok,
                                              const std::string& error, int64_t now_ms, int64_t disable_after_ms) {
  ASSIGN_OR_RETURN(Statement * upsert, db.Prepare(
      "INSERT INTO callback_endpoints (endpoint, consecutive_failures, failing_since_ms, last_attempt_ms, last_error, "
      "disabled_ms) VALUES (?1, 0, 0, ?2, '', 0) ON CONFLICT (endpoint) DO NOTHING"));
  upsert->Bind(1, endpoint).Bind(2, now_ms);
  RETURN_IF_ERROR(upsert->Exec());
  ASSIGN_OR_RETURN(Statement * update, db.Prepare(fmt::format(
      "UPDATE callback_endpoints SET last_attempt_ms = ?2, "
      "consecutive_failures = CASE WHEN ?3 = 1 THEN 0 ELSE consecutive_failures + 1 END, "
      "failing_since_ms = CASE WHEN ?3 = 1 THEN 0 WHEN failing_since_ms = 0 THEN ?2 ELSE failing_since_ms END, "
      "last_error = CASE WHEN ?3 = 1 THEN '' ELSE ?4 END, "
      "disabled_ms = CASE WHEN disabled_ms = 0 AND ?3 = 0 AND ?5 > 0 AND failing_since_ms > 0 "
      "AND ?2 - failing_since_ms >= ?5 THEN ?2 ELSE disabled_ms END "
      "WHERE endpoint = ?1 RETURNING {}", kEndpointColumns)));
  update->Bind(1, endpoint).Bind(2, now_ms).Bind(3, int64_t{ok ? 1 : 0}).Bind(4, error).Bind(5, disable_after_ms);
  return update->One<CallbackEndpoint>(ReadEndpoint, "endpoint vanished");
}

Result<std::optional<CallbackEndpoint>> GetCallbackEndpoint(Connection& db, const std::string& endpoint) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {} FROM callback_endpoints WHERE endpoint = ?1", kEndpointColumns)));
  s->Bind(1, endpoint);
  ASSIGN_OR_RETURN(auto rows, s->Collect<CallbackEndpoint>(ReadEndpoint));
  if (rows.empty()) return std::optional<CallbackEndpoint>();
  return std::optional<CallbackEndpoint>(rows.front());
}

Result<std::vector<CallbackEndpoint>> ListCallbackEndpoints(Connection& db) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
      "SELECT {} FROM callback_endpoints ORDER BY disabled_ms = 0, consecutive_failures DESC, endpoint",
      kEndpointColumns)));
  return s->Collect<CallbackEndpoint>(ReadEndpoint);
}

Status EnableCallbackEndpoint(Connection& db, const std::string& endpoint) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "UPDATE callback_endpoints SET disabled_ms = 0, consecutive_failures = 0, failing_since_ms = 0, last_error = '' "
      "WHERE endpoint = ?1"));
  s->Bind(1, endpoint);
  ASSIGN_OR_RETURN(int changed, s->Run());
  if (changed == 0) return MakeError(ErrorCode::kNotFound, "no callback endpoint " + endpoint);
  return Status::Ok();
}

}  // namespace wanserve::store::sql
