#pragma once
// What a caller sees of its credits: available balances (an expired subscription counts as
// nothing) and what was spent, for the account and for the calling key.
#include <cstdint>
#include <string>

#include "common/error.h"
#include "store/task_store.h"

namespace wanserve::billing {

struct CreditView {
  bool unlimited = false;  // the account is never refused for credits
  int64_t subscription = 0;  // available, 0 once expired
  int64_t subscription_expires_ms = 0;
  int64_t permanent = 0;
  int64_t account_spent = 0;
  int64_t key_spent = 0;
  int64_t key_held = 0;
  int64_t key_cap = 0;  // 0 = the key spends from the account without a cap of its own
  int64_t total() const { return subscription + permanent; }
  // What the key may still use: the account's credits, or less where its cap is nearer.
  int64_t key_remaining() const;
};

Result<CreditView> ViewCredits(store::AccountStore& accounts, const std::string& account_id,
                               const std::string& key_id, int64_t now_ms);

}  // namespace wanserve::billing
