#pragma once
// The credit rules, as pure functions every store backend calls: what a submit may do given
// the account's balances and the key's limits, how a task's hold is settled, and what the
// ledger audit calls a problem. A backend reads the inputs and writes the plans back in one
// transaction; it decides nothing itself, so SQLite and PostgreSQL bill alike.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "core/task.h"

namespace wanserve::billing {

// One ledger row and what it changes in the account's balances.
struct LedgerEntry {
  std::string kind = "";  // grant, expire, hold, adjust, capture, release
  bool of_task = true;  // recorded against the task; false for account-wide rows (grant, expire)
  int64_t amount_subscription = 0;  // the credits the row is about
  int64_t amount_permanent = 0;
  int64_t delta_subscription = 0;  // added to the balances (negative draws)
  int64_t delta_permanent = 0;
  std::string reason = "";

  bool operator==(const LedgerEntry&) const = default;
};

// The account as the submit's transaction reads it.
struct AccountState {
  bool unlimited = false;  // never refused for credits; costs are recorded, not drawn
  int64_t subscription = 0;
  int64_t subscription_expires_ms = 0;
  int64_t permanent = 0;
  int64_t max_concurrent = 0;  // queued + running tasks, 0 = unlimited
};

// A key's submit rate: a token bucket refilled continuously to rpm_limit per minute.
struct RateBucket {
  double tokens = 0;
  int64_t updated_ms = 0;
};

// Everything a submit is judged by. active_tasks and key_credits_used are only read when
// the limit they serve is set (max_concurrent; credit_cap with a price).
struct SubmitInputs {
  AccountState account;
  int64_t rpm_limit = 0;   // the key's; 0 = unlimited
  int64_t credit_cap = 0;  // the key's; 0 = no cap
  std::optional<RateBucket> bucket;  // absent: a full bucket
  int64_t active_tasks = 0;
  int64_t key_credits_used = 0;  // held or spent by the key's tasks
  int64_t price = 0;
  int64_t now_ms = 0;
};

struct SubmitPlan {
  std::optional<RateBucket> bucket;  // the key's bucket after this submit; absent = no rate limit
  std::vector<LedgerEntry> entries;  // a lapse of an expired subscription, then the hold
  core::Usage usage;                 // the hold's split, which the task records
};

// Limits first (rate → kRateLimited with retry_after_s, concurrency → kRateLimited, the key's
// cap → kInsufficientCredits), then the price: subscription credits while unexpired, then
// permanent ones (kInsufficientCredits when they do not cover it). An expired subscription's
// credits lapse with their own ledger row.
Result<SubmitPlan> PlanSubmit(const SubmitInputs& in);

// A task's hold as it stands (its usage columns) and the account it draws on.
struct HeldCredits {
  int64_t subscription = 0;
  int64_t permanent = 0;
  bool unlimited = false;  // nothing was drawn, so nothing goes back
  int64_t account_subscription = 0;  // the account's subscription balance now
  int64_t subscription_expires_ms = 0;
  int64_t total() const { return subscription + permanent; }
};

struct Settlement {
  std::vector<LedgerEntry> entries;
  core::Usage usage_after;  // the task's usage once the rows are written
};

// Credits always go back to the balance they came from, so a task's usage is exactly what its
// account paid for it. Where that balance is a subscription that expired meanwhile, the
// subscription's whole balance then lapses in an `expire` row of the same plan: expired
// credits are never spendable, and a later subscription grant cannot revive them.

// Success captures the hold; any other end releases it.
Settlement PlanSettlement(const HeldCredits& held, bool capture, int64_t now_ms);

// Lowers a hold to `amount` once the price is known: the credits taken last (permanent) go
// back first. nullopt when amount is not lower.
std::optional<Settlement> PlanLowerHold(const HeldCredits& held, int64_t amount, int64_t now_ms);

// A grant adds credits (kInvalidInput for negative amounts); a subscription grant replaces
// the expiry, so credits of an expired subscription lapse before it.
Result<std::vector<LedgerEntry>> PlanGrant(const AccountState& account, int64_t subscription, int64_t permanent,
                                           const std::string& reason, int64_t now_ms);

// One hold as the audit sees it: its task's state ("" = no task), how many captures or
// releases it has, what they settled less what was held, and the task's usage next to what
// the ledger says it holds or spent.
struct HoldAudit {
  std::string task_state = "";
  int64_t settlements = 0;
  int64_t settled_minus_held_subscription = 0;  // captures, releases and adjustments, less the hold
  int64_t settled_minus_held_permanent = 0;
  int64_t ledger_usage = 0;
  int64_t task_usage = 0;
};
// What is wrong with the hold; nullopt when nothing is.
std::optional<std::string> AuditHold(const HoldAudit& hold);
// A balance the ledger does not explain; nullopt when it does.
std::optional<std::string> AuditBalances(int64_t subscription, int64_t permanent, int64_t ledger_subscription,
                                         int64_t ledger_permanent);

}  // namespace wanserve::billing
