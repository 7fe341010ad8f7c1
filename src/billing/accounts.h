#pragma once
// Operator actions on accounts, shared by `wanserve admin` and the /admin/v1 HTTP API so that
// both check the same rules.
#include <cstdint>
#include <functional>
#include <string>

#include "common/error.h"
#include "store/task_store.h"

namespace wanserve::billing {

struct CreditGrant {
  int64_t subscription = 0;
  std::string subscription_expires;  // ISO 8601 UTC, e.g. 2026-12-31T00:00:00Z; needed with subscription
  int64_t permanent = 0;
  std::string reason = "admin grant";
};

// Judges a webhook URL's address when it is set (the outbound guard's net::CheckUrlWhenSet
// with the server's allowlist); billing knows no network. Null: no address check.
using AddressCheck = std::function<Status(const std::string& url)>;

struct NewAccount {
  std::string name;
  int64_t max_concurrent = 0;  // 0 = unlimited
  std::string webhook_url;     // https; empty = none
  CreditGrant initial;         // recorded with the reason "initial credits"
};

// kInvalidInput naming the field for a bad name, limit, URL or grant; kConflict when the name
// is taken. The grant is checked before the account is created.
Result<store::Account> CreateAccount(store::AccountStore& accounts, const NewAccount& spec, int64_t now_ms,
                                     const AddressCheck& check_address);
// Adds credits as one ledger entry with its reason; kNotFound for an unknown account.
Result<store::Account> GrantCredits(store::AccountStore& accounts, const std::string& account_id,
                                    const CreditGrant& grant, int64_t now_ms);
// Sets (or, with an empty URL, clears) the endpoint for tasks that name no callback URL.
Result<store::Account> SetWebhookUrl(store::AccountStore& accounts, const std::string& account_id,
                                     const std::string& url, const AddressCheck& check_address);

}  // namespace wanserve::billing
