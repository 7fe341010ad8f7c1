#include "billing/accounts.h"

#include "common/crypto.h"
#include "common/time_format.h"

namespace wanserve::billing {
namespace {

Result<store::Grant> ToStoreGrant(const CreditGrant& g) {
  if (g.subscription < 0 || g.permanent < 0) {
    return MakeError(ErrorCode::kInvalidInput, "credits must not be negative");
  }
  store::Grant out{g.subscription, 0, g.permanent, g.reason};
  if (g.subscription_expires.empty()) {
    if (g.subscription > 0) {
      return MakeError(ErrorCode::kInvalidInput, "subscription credits need subscription_expires");
    }
    return out;
  }
  out.subscription_expires_ms = ParseIso8601Utc(g.subscription_expires);
  if (out.subscription_expires_ms < 0) {
    return MakeError(ErrorCode::kInvalidInput, "subscription_expires must look like 2026-12-31T00:00:00Z");
  }
  return out;
}

// https, and (when a check is given) no internal address the server would refuse to connect
// to anyway; an empty URL turns the webhook off.
Status CheckWebhookUrl(const std::string& url, const AddressCheck& check_address) {
  if (url.empty()) return Status::Ok();
  if (!url.starts_with("https://")) {
    return MakeError(ErrorCode::kInvalidInput, "webhook_url must be an https URL", "webhook_url");
  }
  if (check_address) {
    if (Status st = check_address(url); !st.ok()) {
      return MakeError(ErrorCode::kInvalidInput, "webhook_url: " + st.error().message, "webhook_url");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<store::Account> CreateAccount(store::AccountStore& accounts, const NewAccount& spec, int64_t now_ms,
                                     const AddressCheck& check_address) {
  if (spec.name.empty() || spec.name.size() > 100) {
    return MakeError(ErrorCode::kInvalidInput, "name must be 1-100 characters");
  }
  if (spec.max_concurrent < 0) return MakeError(ErrorCode::kInvalidInput, "max_concurrent must not be negative");
  RETURN_IF_ERROR(CheckWebhookUrl(spec.webhook_url, check_address));
  CreditGrant initial = spec.initial;
  initial.reason = "initial credits";
  ASSIGN_OR_RETURN(store::Grant grant, ToStoreGrant(initial));
  store::Account a;
  a.id = "acct_" + RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
  a.name = spec.name;
  a.max_concurrent = spec.max_concurrent;
  a.webhook_url = spec.webhook_url;
  RETURN_IF_ERROR(accounts.InsertAccount(a, grant, now_ms));
  return accounts.GetAccount(a.id);
}

Result<store::Account> GrantCredits(store::AccountStore& accounts, const std::string& account_id,
                                    const CreditGrant& grant, int64_t now_ms) {
  ASSIGN_OR_RETURN(store::Grant g, ToStoreGrant(grant));
  if (g.subscription > 0 || g.permanent > 0) RETURN_IF_ERROR(accounts.GrantCredits(account_id, g, now_ms));
  return accounts.GetAccount(account_id);
}

Result<store::Account> SetWebhookUrl(store::AccountStore& accounts, const std::string& account_id,
                                     const std::string& url, const AddressCheck& check_address) {
  RETURN_IF_ERROR(CheckWebhookUrl(url, check_address));
  RETURN_IF_ERROR(accounts.SetAccountWebhookUrl(account_id, url));
  return accounts.GetAccount(account_id);
}

}  // namespace wanserve::billing
