#pragma once
// Accounts and API keys in SQL. Callers hold the writer connection (and a transaction where
// a write must be atomic with others) or a reader.
#include <optional>
#include <string>
#include <vector>

#include "billing/credit_policy.h"
#include "store/sql/connection.h"
#include "store/task_store.h"

namespace wanserve::store::sql {

// The account row alone, with a fresh webhook signing key; kConflict when the name is taken.
Status InsertAccountRow(Connection& db, const Account& account, int64_t now_ms);
// kNotFound for an unknown account.
Status SetAccountWebhookUrl(Connection& db, const std::string& account_id, const std::string& url);
// A subscription grant replaces the expiry; kNotFound for an unknown account.
Status SetSubscriptionExpiry(Connection& db, const std::string& account_id, int64_t expires_ms);
Result<Account> GetAccount(Connection& db, const std::string& id);
Result<std::vector<Account>> ListAccounts(Connection& db);
// The balances and limits the credit rules read; nullopt for an unknown account.
Result<std::optional<billing::AccountState>> ReadAccountState(Connection& db, const std::string& account_id);

Status InsertKey(Connection& db, const ApiKey& key);
Result<ApiKey> FindActiveKeyByHash(Connection& db, const std::string& hash);
Result<std::vector<ApiKey>> ListKeys(Connection& db);
// kNotFound if no active key has this id.
Status RevokeKey(Connection& db, const std::string& id, int64_t now_ms);

}  // namespace wanserve::store::sql
