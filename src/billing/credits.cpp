#include "billing/credits.h"

namespace wanserve::billing {

Result<CreditView> ViewCredits(store::AccountStore& accounts, const std::string& account_id,
                               const std::string& key_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(store::Account a, accounts.GetAccount(account_id));
  ASSIGN_OR_RETURN(auto spent, accounts.SpentByAccountAndKey(account_id, key_id));
  CreditView v;
  v.unlimited = a.unlimited;
  v.subscription = a.subscription_expires_ms > now_ms ? a.subscription_balance : 0;
  v.subscription_expires_ms = a.subscription_expires_ms;
  v.permanent = a.permanent_balance;
  v.account_spent = spent.first;
  v.key_spent = spent.second;
  return v;
}

}  // namespace wanserve::billing
