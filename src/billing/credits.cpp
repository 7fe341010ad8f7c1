#include "billing/credits.h"

#include <algorithm>

namespace wanserve::billing {

int64_t CreditView::key_remaining() const {
  if (key_cap <= 0) return total();
  const int64_t under_cap = std::max<int64_t>(0, key_cap - key_spent - key_held);
  return unlimited ? under_cap : std::min(total(), under_cap);
}

Result<CreditView> ViewCredits(store::AccountStore& accounts, const std::string& account_id,
                               const std::string& key_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(store::Account a, accounts.GetAccount(account_id));
  ASSIGN_OR_RETURN(store::CreditUse use, accounts.CreditUseOf(account_id, key_id));
  CreditView v;
  v.unlimited = a.unlimited;
  v.subscription = a.subscription_expires_ms > now_ms ? a.subscription_balance : 0;
  v.subscription_expires_ms = a.subscription_expires_ms;
  v.permanent = a.permanent_balance;
  v.account_spent = use.account_spent;
  v.key_spent = use.key_spent;
  v.key_held = use.key_held;
  v.key_cap = use.key_cap;
  return v;
}

}  // namespace wanserve::billing
