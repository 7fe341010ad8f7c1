#include "store/sql/accounts_sql.h"

#include "common/crypto.h"

namespace wanserve::store::sql {
namespace {

constexpr const char* kAccountSelect =
    "SELECT id, name, created_ms, unlimited, subscription_balance, subscription_expires_ms, "
    "permanent_balance, max_concurrent, webhook_url, webhook_key FROM accounts";

Account ReadAccount(const Statement& s) {
  Account a;
  a.id = s.Text(0);
  a.name = s.Text(1);
  a.created_ms = s.Int(2);
  a.unlimited = s.Int(3) != 0;
  a.subscription_balance = s.Int(4);
  a.subscription_expires_ms = s.Int(5);
  a.permanent_balance = s.Int(6);
  a.max_concurrent = s.Int(7);
  a.webhook_url = s.Text(8);
  a.webhook_secret = "whsec_" + Base64Encode(HexDecode(s.Text(9)).value_or(std::vector<uint8_t>{}));
  return a;
}

constexpr const char* kKeySelect =
    "SELECT id, name, hash, prefix, created_ms, revoked_ms, account_id, rpm_limit, credit_cap, role FROM api_keys";

ApiKey ReadKey(const Statement& s) {
  ApiKey k;
  k.id = s.Text(0);
  k.name = s.Text(1);
  k.hash = s.Text(2);
  k.prefix = s.Text(3);
  k.created_ms = s.Int(4);
  k.revoked_ms = s.Int(5);
  k.account_id = s.Text(6);
  k.rpm_limit = s.Int(7);
  k.credit_cap = s.Int(8);
  k.admin = s.Text(9) == "admin";
  return k;
}

}  // namespace

Status InsertAccountRow(Connection& db, const Account& a, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "INSERT INTO accounts (id, name, created_ms, unlimited, max_concurrent, webhook_url, webhook_key) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  s->Bind(1, a.id).Bind(2, a.name).Bind(3, now_ms).Bind(4, a.unlimited ? 1 : 0).Bind(5, a.max_concurrent)
      .Bind(6, a.webhook_url).Bind(7, HexEncode(RandomBytes(24)));
  return s->Exec();
}

Status SetAccountWebhookUrl(Connection& db, const std::string& account_id, const std::string& url) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("UPDATE accounts SET webhook_url = ?1 WHERE id = ?2"));
  s->Bind(1, url).Bind(2, account_id);
  ASSIGN_OR_RETURN(int changed, s->Run());
  if (changed == 0) return MakeError(ErrorCode::kNotFound, "no account " + account_id);
  return Status::Ok();
}

Status SetSubscriptionExpiry(Connection& db, const std::string& account_id, int64_t expires_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("UPDATE accounts SET subscription_expires_ms = ?1 WHERE id = ?2"));
  s->Bind(1, expires_ms).Bind(2, account_id);
  ASSIGN_OR_RETURN(int changed, s->Run());
  if (changed == 0) return MakeError(ErrorCode::kNotFound, "no account " + account_id);
  return Status::Ok();
}

Result<Account> GetAccount(Connection& db, const std::string& id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kAccountSelect) + " WHERE id = ?1"));
  s->Bind(1, id);
  return s->One<Account>(ReadAccount, "no account " + id);
}

Result<std::vector<Account>> ListAccounts(Connection& db) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kAccountSelect) + " ORDER BY created_ms, id"));
  return s->Collect<Account>(ReadAccount);
}

Result<std::optional<billing::AccountState>> ReadAccountState(Connection& db, const std::string& account_id) {
  ASSIGN_OR_RETURN(Statement * a, db.Prepare(
      "SELECT unlimited, subscription_balance, subscription_expires_ms, permanent_balance, max_concurrent "
      "FROM accounts WHERE id = ?1" + ForUpdate(db)));
  a->Bind(1, account_id);
  ASSIGN_OR_RETURN(bool row, a->Step());
  if (!row) return std::optional<billing::AccountState>();
  billing::AccountState state{a->Int(0) != 0, a->Int(1), a->Int(2), a->Int(3), a->Int(4)};
  a->Reset();
  return std::optional<billing::AccountState>(state);
}

Status InsertKey(Connection& db, const ApiKey& k) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(
      "INSERT INTO api_keys (id, name, hash, prefix, created_ms, account_id, rpm_limit, credit_cap, role) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  s->Bind(1, k.id).Bind(2, k.name).Bind(3, k.hash).Bind(4, k.prefix).Bind(5, k.created_ms).Bind(6, k.account_id)
      .Bind(7, k.rpm_limit).Bind(8, k.credit_cap).Bind(9, k.admin ? "admin" : "client");
  return s->Exec();
}

Result<ApiKey> FindActiveKeyByHash(Connection& db, const std::string& hash) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kKeySelect) + " WHERE hash = ?1 AND revoked_ms = 0"));
  s->Bind(1, hash);
  return s->One<ApiKey>(ReadKey, "no such key");
}

Result<std::vector<ApiKey>> ListKeys(Connection& db) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kKeySelect) + " ORDER BY created_ms, id"));
  return s->Collect<ApiKey>(ReadKey);
}

Status RevokeKey(Connection& db, const std::string& id, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("UPDATE api_keys SET revoked_ms = ?1 WHERE id = ?2 AND revoked_ms = 0"));
  s->Bind(1, now_ms).Bind(2, id);
  ASSIGN_OR_RETURN(int changed, s->Run());
  if (changed == 0) return MakeError(ErrorCode::kNotFound, "no active key with id " + id);
  return Status::Ok();
}

}  // namespace wanserve::store::sql
