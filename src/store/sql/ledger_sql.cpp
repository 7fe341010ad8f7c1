#include "store/sql/ledger_sql.h"

#include "store/sql/accounts_sql.h"

namespace wanserve::store::sql {
namespace {

int64_t FirstInt(const Statement& row) { return row.Int(0); }

}  // namespace

Result<billing::SubmitInputs> ReadSubmitInputs(Connection& db, const std::string& account_id, const std::string& key_id,
                                               int64_t price, int64_t now_ms) {
  billing::SubmitInputs in;
  in.price = price;
  in.now_ms = now_ms;
  ASSIGN_OR_RETURN(std::optional<billing::AccountState> account, ReadAccountState(db, account_id));
  if (!account) return MakeError(ErrorCode::kInternal, "the key's account " + account_id + " does not exist");
  in.account = *account;
  if (!key_id.empty()) {
    ASSIGN_OR_RETURN(Statement * k, db.Prepare("SELECT rpm_limit, credit_cap FROM api_keys WHERE id = ?1"));
    k->Bind(1, key_id);
    ASSIGN_OR_RETURN(bool row, k->Step());
    if (row) {
      in.rpm_limit = k->Int(0);
      in.credit_cap = k->Int(1);
    }
    k->Reset();
  }
  if (in.rpm_limit > 0) {
    ASSIGN_OR_RETURN(Statement * b, db.Prepare("SELECT tokens, updated_ms FROM key_buckets WHERE key_id = ?1"));
    b->Bind(1, key_id);
    ASSIGN_OR_RETURN(bool row, b->Step());
    if (row) in.bucket = billing::RateBucket{b->Double(0), b->Int(1)};
    b->Reset();
  }
  if (in.account.max_concurrent > 0) {
    ASSIGN_OR_RETURN(Statement * c, db.Prepare(
        "SELECT COUNT(*) FROM tasks WHERE account_id = ?1 AND state IN ('queued', 'running')"));
    c->Bind(1, account_id);
    ASSIGN_OR_RETURN(in.active_tasks, c->One<int64_t>(FirstInt, "no count"));
  }
  if (in.credit_cap > 0 && price > 0) {
    // What the key's tasks hold or have spent: holds less what adjustments and releases gave back.
    ASSIGN_OR_RETURN(Statement * c, db.Prepare(
        "SELECT COALESCE(SUM(CASE WHEN l.kind = 'hold' THEN l.amount_subscription + l.amount_permanent "
        "WHEN l.kind IN ('adjust', 'release') THEN -(l.amount_subscription + l.amount_permanent) ELSE 0 END), 0) "
        "FROM ledger l JOIN tasks t ON t.id = l.task_id WHERE t.key_id = ?1"));
    c->Bind(1, key_id);
    ASSIGN_OR_RETURN(in.key_credits_used, c->One<int64_t>(FirstInt, "no sum"));
  }
  return in;
}

Status WriteRateBucket(Connection& db, const std::string& key_id, const billing::RateBucket& bucket) {
  ASSIGN_OR_RETURN(Statement * u, db.Prepare(
      "INSERT INTO key_buckets (key_id, tokens, updated_ms) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (key_id) DO UPDATE SET tokens = excluded.tokens, updated_ms = excluded.updated_ms"));
  u->Bind(1, key_id).Bind(3, bucket.updated_ms);
  u->BindDouble(2, bucket.tokens);
  return u->Exec();
}

Status AppendEntries(Connection& db, const std::string& account_id, const std::string& task_id,
                     const std::vector<billing::LedgerEntry>& entries, int64_t now_ms) {
  for (const auto& e : entries) {
    ASSIGN_OR_RETURN(Statement * s, db.Prepare(
        "INSERT INTO ledger (account_id, task_id, kind, amount_subscription, amount_permanent, "
        "delta_subscription, delta_permanent, reason, created_ms) "
        "VALUES (?1, NULLIF(?2, ''), ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    s->Bind(1, account_id).Bind(2, e.of_task ? task_id : "").Bind(3, e.kind).Bind(4, e.amount_subscription)
        .Bind(5, e.amount_permanent).Bind(6, e.delta_subscription).Bind(7, e.delta_permanent).Bind(8, e.reason)
        .Bind(9, now_ms);
    RETURN_IF_ERROR(s->Exec());
    if (e.delta_subscription == 0 && e.delta_permanent == 0) continue;
    ASSIGN_OR_RETURN(Statement * b, db.Prepare(
        "UPDATE accounts SET subscription_balance = subscription_balance + ?1, "
        "permanent_balance = permanent_balance + ?2 WHERE id = ?3"));
    b->Bind(1, e.delta_subscription).Bind(2, e.delta_permanent).Bind(3, account_id);
    RETURN_IF_ERROR(ExpectChanged(b->Run(), "the account does not exist"));
  }
  return Status::Ok();
}

Result<std::optional<TaskHold>> ReadHold(Connection& db, const std::string& task_id) {
  // The task's usage columns are its hold as it stands: they change with every hold, adjust
  // and release, in the same transaction.
  ASSIGN_OR_RETURN(Statement * h, db.Prepare(
      "SELECT t.account_id, t.usage_subscription, t.usage_permanent, a.unlimited, a.subscription_balance, "
      "a.subscription_expires_ms FROM tasks t JOIN accounts a ON a.id = t.account_id "
      "WHERE t.id = ?1 AND t.usage_total > 0" + ForUpdate(db, "a")));
  h->Bind(1, task_id);
  ASSIGN_OR_RETURN(bool row, h->Step());
  if (!row) return std::optional<TaskHold>();
  TaskHold hold{h->Text(0), {h->Int(1), h->Int(2), h->Int(3) != 0, h->Int(4), h->Int(5)}};
  h->Reset();
  return std::optional<TaskHold>(std::move(hold));
}

Result<std::vector<LedgerProblem>> CheckLedger(Connection& db) {
  std::vector<LedgerProblem> problems;
  ASSIGN_OR_RETURN(Statement * b, db.Prepare(
      "SELECT a.id, a.subscription_balance, a.permanent_balance, "
      "COALESCE(SUM(l.delta_subscription), 0), COALESCE(SUM(l.delta_permanent), 0) "
      "FROM accounts a LEFT JOIN ledger l ON l.account_id = a.id GROUP BY a.id"));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, b->Step());
    if (!row) break;
    if (auto what = billing::AuditBalances(b->Int(1), b->Int(2), b->Int(3), b->Int(4))) {
      problems.push_back({b->Text(0), "", *what});
    }
  }
  ASSIGN_OR_RETURN(Statement * d, db.Prepare(
      "SELECT task_id, MIN(account_id), COUNT(*) FROM ledger WHERE kind = 'hold' GROUP BY task_id HAVING COUNT(*) > 1"));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, d->Step());
    if (!row) break;
    problems.push_back({d->Text(1), d->Text(0), std::to_string(d->Int(2)) + " holds for one task"});
  }
  ASSIGN_OR_RETURN(Statement * u, db.Prepare(
      "SELECT t.id, t.account_id FROM tasks t LEFT JOIN ledger l ON l.task_id = t.id AND l.kind = 'hold' "
      "WHERE t.usage_total > 0 AND l.id IS NULL"));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, u->Step());
    if (!row) break;
    problems.push_back({u->Text(1), u->Text(0), "the task shows a usage but holds nothing"});
  }
  // Per hold: its task's state, its captures and releases, what they and its adjustments
  // gave back or kept less what was held, and what the ledger says the task holds or spent (the hold less adjustments; 0 once
  // released) next to the task's usage, which the credit views sum.
  ASSIGN_OR_RETURN(Statement * h, db.Prepare(
      "SELECT h.task_id, h.account_id, COALESCE(t.state, ''), COUNT(CASE WHEN s.kind <> 'adjust' THEN 1 END), "
      "COALESCE(SUM(s.amount_subscription), 0) - h.amount_subscription, "
      "COALESCE(SUM(s.amount_permanent), 0) - h.amount_permanent, "
      "CASE WHEN COUNT(CASE WHEN s.kind = 'release' THEN 1 END) > 0 THEN 0 ELSE "
      "h.amount_subscription + h.amount_permanent - COALESCE(SUM(CASE WHEN s.kind = 'adjust' "
      "THEN s.amount_subscription + s.amount_permanent END), 0) END, COALESCE(t.usage_total, 0) "
      "FROM ledger h LEFT JOIN tasks t ON t.id = h.task_id "
      "LEFT JOIN ledger s ON s.task_id = h.task_id AND s.kind IN ('adjust', 'capture', 'release') "
      "WHERE h.kind = 'hold' GROUP BY h.id, t.id"));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, h->Step());
    if (!row) break;
    billing::HoldAudit audit{h->Text(2), h->Int(3), h->Int(4), h->Int(5), h->Int(6), h->Int(7)};
    if (auto what = billing::AuditHold(audit)) problems.push_back({h->Text(1), h->Text(0), *what});
  }
  return problems;
}

Result<CreditUse> CreditUseOf(Connection& db, const std::string& account_id, const std::string& key_id) {
  // A task's usage columns change in the same transactions as its ledger entries: what a
  // succeeded task shows was captured, what an unfinished one shows is held.
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "SELECT (SELECT COALESCE(SUM(usage_total), 0) FROM tasks WHERE account_id = ?1 AND state = 'succeeded'), "
      "(SELECT COALESCE(SUM(usage_total), 0) FROM tasks WHERE key_id = ?2 AND state = 'succeeded'), "
      "(SELECT COALESCE(SUM(usage_total), 0) FROM tasks WHERE key_id = ?2 AND state IN ('queued', 'running')), "
      "(SELECT COALESCE(MAX(credit_cap), 0) FROM api_keys WHERE id = ?2)"));
  s->Bind(1, account_id).Bind(2, key_id);
  ASSIGN_OR_RETURN(bool row, s->Step());
  CreditUse use;
  if (row) use = {s->Int(0), s->Int(1), s->Int(2), s->Int(3)};
  s->Reset();
  return use;
}

}  // namespace wanserve::store::sql
