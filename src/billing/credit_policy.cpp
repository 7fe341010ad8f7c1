#include "billing/credit_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace wanserve::billing {
namespace {

Result<std::optional<RateBucket>> TakeSubmitToken(const SubmitInputs& in) {
  if (in.rpm_limit <= 0) return std::optional<RateBucket>();
  const double per_ms = static_cast<double>(in.rpm_limit) / 60'000.0;
  double tokens = static_cast<double>(in.rpm_limit);
  if (in.bucket) {
    const double refill = static_cast<double>(std::max<int64_t>(0, in.now_ms - in.bucket->updated_ms)) * per_ms;
    tokens = std::min(tokens, in.bucket->tokens + refill);
  }
  if (tokens < 1.0) {
    Error e = MakeError(ErrorCode::kRateLimited,
                        fmt::format("rate limit: this key may submit {} tasks per minute", in.rpm_limit));
    e.retry_after_s = static_cast<int>(std::ceil((1.0 - tokens) / per_ms / 1000.0));
    return e;
  }
  return std::optional<RateBucket>(RateBucket{tokens - 1.0, in.now_ms});
}

Status CheckConcurrency(const SubmitInputs& in) {
  if (in.account.max_concurrent <= 0 || in.active_tasks < in.account.max_concurrent) return Status::Ok();
  Error e = MakeError(ErrorCode::kRateLimited,
                      fmt::format("concurrency limit: the account already has {} tasks queued or running (limit {})",
                                  in.active_tasks, in.account.max_concurrent));
  e.retry_after_s = 1;
  return e;
}

Status CheckCreditCap(const SubmitInputs& in) {
  if (in.credit_cap <= 0 || in.price <= 0 || in.key_credits_used + in.price <= in.credit_cap) return Status::Ok();
  return MakeError(ErrorCode::kInsufficientCredits,
                   fmt::format("this key's credit cap is {}; {} are used and the task costs {}", in.credit_cap,
                               in.key_credits_used, in.price));
}

// The row that lapses an expired subscription's balance; nullopt while it is live or empty.
std::optional<LedgerEntry> LapseIfExpired(int64_t balance, int64_t expires_ms, int64_t now_ms) {
  if (balance <= 0 || expires_ms > now_ms) return std::nullopt;
  return LedgerEntry{.kind = "expire",
                     .of_task = false,
                     .amount_subscription = balance,
                     .delta_subscription = -balance,
                     .reason = "subscription expired"};
}

}  // namespace

Result<SubmitPlan> PlanSubmit(const SubmitInputs& in) {
  SubmitPlan plan;
  ASSIGN_OR_RETURN(plan.bucket, TakeSubmitToken(in));
  RETURN_IF_ERROR(CheckConcurrency(in));
  RETURN_IF_ERROR(CheckCreditCap(in));
  if (in.price <= 0) return plan;

  const AccountState& a = in.account;
  const bool sub_live = a.subscription_expires_ms > in.now_ms;
  if (auto lapse = LapseIfExpired(a.subscription, a.subscription_expires_ms, in.now_ms)) {
    plan.entries.push_back(std::move(*lapse));
  }
  const int64_t sub_available = sub_live ? std::max<int64_t>(0, a.subscription) : 0;
  if (!a.unlimited && sub_available + a.permanent < in.price) {
    return MakeError(ErrorCode::kInsufficientCredits,
                     fmt::format("insufficient credits: this task costs {}, the account has {} available", in.price,
                                 sub_available + std::max<int64_t>(0, a.permanent)));
  }
  plan.usage.total = in.price;
  plan.usage.subscription = std::min(sub_available, in.price);
  plan.usage.permanent = in.price - plan.usage.subscription;
  // An unlimited account records what a task costs without drawing on its balances.
  plan.entries.push_back({.kind = "hold",
                          .amount_subscription = plan.usage.subscription,
                          .amount_permanent = plan.usage.permanent,
                          .delta_subscription = a.unlimited ? 0 : -plan.usage.subscription,
                          .delta_permanent = a.unlimited ? 0 : -plan.usage.permanent,
                          .reason = a.unlimited ? "unlimited account" : ""});
  return plan;
}

namespace {

// A settlement row giving back off_sub + off_perm of the hold, then the lapse of an expired
// subscription the give-back landed on.
std::vector<LedgerEntry> GiveBack(const HeldCredits& held, const char* kind, int64_t off_sub, int64_t off_perm,
                                  const std::string& reason, int64_t now_ms) {
  const int64_t back_sub = held.unlimited ? 0 : off_sub;
  const int64_t back_perm = held.unlimited ? 0 : off_perm;
  std::vector<LedgerEntry> entries{{.kind = kind,
                                    .amount_subscription = off_sub,
                                    .amount_permanent = off_perm,
                                    .delta_subscription = back_sub,
                                    .delta_permanent = back_perm,
                                    .reason = reason}};
  if (back_sub > 0) {
    if (auto lapse = LapseIfExpired(held.account_subscription + back_sub, held.subscription_expires_ms, now_ms)) {
      entries.push_back(std::move(*lapse));
    }
  }
  return entries;
}

}  // namespace

Settlement PlanSettlement(const HeldCredits& held, bool capture, int64_t now_ms) {
  if (capture) {
    return {{{.kind = "capture", .amount_subscription = held.subscription, .amount_permanent = held.permanent}},
            {held.total(), held.subscription, held.permanent}};
  }
  return {GiveBack(held, "release", held.subscription, held.permanent, "", now_ms), {}};
}

std::optional<Settlement> PlanLowerHold(const HeldCredits& held, int64_t amount, int64_t now_ms) {
  if (amount >= held.total()) return std::nullopt;
  // The credits taken last (permanent ones, as subscription credits are spent first) go back
  // first, so the hold ends up as if the lower price had been held from the start.
  const int64_t excess = held.total() - std::max<int64_t>(0, amount);
  const int64_t off_perm = std::min(held.permanent, excess);
  const int64_t off_sub = excess - off_perm;
  return Settlement{GiveBack(held, "adjust", off_sub, off_perm, "price settled once the input was known", now_ms),
                    {held.total() - excess, held.subscription - off_sub, held.permanent - off_perm}};
}

Result<std::vector<LedgerEntry>> PlanGrant(const AccountState& account, int64_t subscription, int64_t permanent,
                                           const std::string& reason, int64_t now_ms) {
  if (subscription < 0 || permanent < 0) {
    return MakeError(ErrorCode::kInvalidInput, "grants add credits; amounts must not be negative");
  }
  std::vector<LedgerEntry> entries;
  if (subscription > 0) {
    if (auto lapse = LapseIfExpired(account.subscription, account.subscription_expires_ms, now_ms)) {
      entries.push_back(std::move(*lapse));
    }
  }
  entries.push_back({.kind = "grant",
                     .of_task = false,
                     .amount_subscription = subscription,
                     .amount_permanent = permanent,
                     .delta_subscription = subscription,
                     .delta_permanent = permanent,
                     .reason = reason});
  return entries;
}

std::optional<std::string> AuditHold(const HoldAudit& h) {
  const std::string& state = h.task_state;
  const bool finished = state == "succeeded" || state == "failed" || state == "canceled";
  if (state.empty()) return "hold without a task";
  if (finished && h.settlements != 1) return fmt::format("finished task settled {} times", h.settlements);
  if (!finished && h.settlements != 0) return "settled before the task finished";
  if (h.settlements == 1 && (h.settled_minus_held_subscription != 0 || h.settled_minus_held_permanent != 0)) {
    return "settled for a different amount than held";
  }
  if (h.ledger_usage != h.task_usage) {
    return fmt::format("the task shows a usage of {} but the ledger {}", h.task_usage, h.ledger_usage);
  }
  return std::nullopt;
}

std::optional<std::string> AuditBalances(int64_t subscription, int64_t permanent, int64_t ledger_subscription,
                                         int64_t ledger_permanent) {
  if (subscription == ledger_subscription && permanent == ledger_permanent) return std::nullopt;
  return fmt::format("balances {}+{} but the ledger sums to {}+{}", subscription, permanent, ledger_subscription,
                     ledger_permanent);
}

}  // namespace wanserve::billing
