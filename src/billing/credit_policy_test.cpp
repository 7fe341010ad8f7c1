#include "billing/credit_policy.h"

#include <gtest/gtest.h>

namespace wanserve::billing {
namespace {

constexpr int64_t kNow = 1'000'000;

SubmitInputs Funded(int64_t subscription, int64_t permanent, int64_t price) {
  SubmitInputs in;
  in.account.subscription = subscription;
  in.account.subscription_expires_ms = kNow + 1000;
  in.account.permanent = permanent;
  in.price = price;
  in.now_ms = kNow;
  return in;
}

int64_t SubDelta(const std::vector<LedgerEntry>& entries) {
  int64_t sum = 0;
  for (const auto& e : entries) sum += e.delta_subscription;
  return sum;
}

TEST(CreditPolicy, SubscriptionCreditsAreSpentFirstThenPermanentOnes) {
  auto plan = PlanSubmit(Funded(30, 100, 50));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->usage.subscription, 30);
  EXPECT_EQ(plan->usage.permanent, 20);
  ASSERT_EQ(plan->entries.size(), 1u);
  EXPECT_EQ(plan->entries[0].kind, "hold");
  EXPECT_EQ(plan->entries[0].delta_subscription, -30);
  EXPECT_EQ(plan->entries[0].delta_permanent, -20);
}

TEST(CreditPolicy, AnExpiredSubscriptionLapsesAndDoesNotPay) {
  SubmitInputs in = Funded(30, 100, 50);
  in.account.subscription_expires_ms = kNow;
  auto plan = PlanSubmit(in);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->entries.size(), 2u);
  EXPECT_EQ(plan->entries[0].kind, "expire");
  EXPECT_FALSE(plan->entries[0].of_task);
  EXPECT_EQ(plan->entries[0].delta_subscription, -30);
  EXPECT_EQ(plan->usage.permanent, 50);

  in.account.permanent = 49;
  auto refused = PlanSubmit(in);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInsufficientCredits);
  EXPECT_NE(refused.error().message.find("49 available"), std::string::npos) << refused.error().message;
}

TEST(CreditPolicy, UnlimitedAccountsRecordCostsWithoutDrawing) {
  SubmitInputs in = Funded(0, 0, 70);
  in.account.unlimited = true;
  auto plan = PlanSubmit(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->usage.total, 70);
  EXPECT_EQ(plan->entries.back().delta_permanent, 0);
}

TEST(CreditPolicy, TheRateBucketRefillsContinuouslyAndSaysWhenToRetry) {
  SubmitInputs in = Funded(0, 0, 0);
  in.rpm_limit = 60;  // one per second
  auto first = PlanSubmit(in);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->bucket);
  EXPECT_DOUBLE_EQ(first->bucket->tokens, 59.0) << "a key starts with a full bucket";

  in.bucket = RateBucket{0.25, kNow};
  auto limited = PlanSubmit(in);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(limited.error().retry_after_s, 1);

  in.bucket = RateBucket{0.25, kNow - 750};
  EXPECT_TRUE(PlanSubmit(in).ok()) << "750 ms refill 0.75 of a token";
}

TEST(CreditPolicy, ConcurrencyAndTheKeysCapAreCheckedBeforeTheBalance) {
  SubmitInputs in = Funded(0, 0, 10);
  in.account.max_concurrent = 2;
  in.active_tasks = 2;
  auto busy = PlanSubmit(in);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, ErrorCode::kRateLimited);

  in.active_tasks = 1;
  in.credit_cap = 100;
  in.key_credits_used = 95;
  auto capped = PlanSubmit(in);
  ASSERT_FALSE(capped.ok());
  EXPECT_EQ(capped.error().code, ErrorCode::kInsufficientCredits);
  EXPECT_NE(capped.error().message.find("credit cap is 100"), std::string::npos);
}

TEST(CreditPolicy, SettlementCapturesOrReturnsWhatWasDrawn) {
  HeldCredits held{.subscription = 30, .permanent = 20, .subscription_expires_ms = kNow + 1};
  Settlement capture = PlanSettlement(held, true, kNow);
  ASSERT_EQ(capture.entries.size(), 1u);
  EXPECT_EQ(capture.entries[0].kind, "capture");
  EXPECT_EQ(capture.usage_after.total, 50);

  Settlement release = PlanSettlement(held, false, kNow);
  ASSERT_EQ(release.entries.size(), 1u);
  EXPECT_EQ(release.entries[0].delta_subscription, 30);
  EXPECT_EQ(release.entries[0].delta_permanent, 20);
  EXPECT_EQ(release.usage_after.total, 0);
}

TEST(CreditPolicy, CreditsReturnedToAnExpiredSubscriptionLapseWithItsBalance) {
  HeldCredits held{.subscription = 30, .permanent = 20, .account_subscription = 5, .subscription_expires_ms = kNow};
  Settlement release = PlanSettlement(held, false, kNow);
  ASSERT_EQ(release.entries.size(), 2u);
  EXPECT_EQ(release.entries[0].delta_subscription, 30);
  EXPECT_EQ(release.entries[1].kind, "expire");
  EXPECT_EQ(release.entries[1].delta_subscription, -35);
  EXPECT_EQ(held.account_subscription + SubDelta(release.entries), 0);
}

TEST(CreditPolicy, LoweringAHoldReturnsPermanentCreditsFirstAndUsageMatchesWhatWasPaid) {
  HeldCredits held{.subscription = 30, .permanent = 20, .subscription_expires_ms = kNow + 1};
  EXPECT_FALSE(PlanLowerHold(held, 50, kNow));
  auto lowered = PlanLowerHold(held, 16, kNow);
  ASSERT_TRUE(lowered);
  ASSERT_EQ(lowered->entries.size(), 1u);
  EXPECT_EQ(lowered->entries[0].kind, "adjust");
  EXPECT_EQ(lowered->entries[0].delta_permanent, 20);
  EXPECT_EQ(lowered->entries[0].delta_subscription, 14);
  EXPECT_EQ(lowered->usage_after.total, 16);
  EXPECT_EQ(lowered->usage_after.subscription, 16);

  // The subscription expired while the task ran: the 14 go back and lapse with the balance,
  // so the task's usage (16) is what the account paid, and nothing expired stays spendable.
  held.subscription_expires_ms = kNow;
  lowered = PlanLowerHold(held, 16, kNow);
  ASSERT_TRUE(lowered);
  ASSERT_EQ(lowered->entries.size(), 2u);
  EXPECT_EQ(lowered->entries[0].delta_subscription, 14);
  EXPECT_EQ(lowered->entries[1].kind, "expire");
  EXPECT_EQ(lowered->entries[1].delta_subscription, -14);
  EXPECT_EQ(lowered->usage_after.total, 16);
}

TEST(CreditPolicy, ASubscriptionGrantDoesNotReviveExpiredCredits) {
  AccountState account{.subscription = 40, .subscription_expires_ms = kNow};
  auto entries = PlanGrant(account, 100, 0, "renewal", kNow);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].kind, "expire");
  EXPECT_EQ(account.subscription + SubDelta(*entries), 100);

  auto permanent_only = PlanGrant(account, 0, 5, "gift", kNow);
  ASSERT_TRUE(permanent_only.ok());
  EXPECT_EQ(permanent_only->size(), 1u) << "the lapse is recorded when credits are next used";
  EXPECT_EQ(PlanGrant(account, -1, 0, "", kNow).error().code, ErrorCode::kInvalidInput);
}

TEST(CreditPolicy, TheAuditNamesEachWayAHoldCanBeWrong) {
  EXPECT_FALSE(AuditHold({.task_state = "succeeded", .settlements = 1, .ledger_usage = 5, .task_usage = 5}));
  EXPECT_FALSE(AuditHold({.task_state = "running", .ledger_usage = 5, .task_usage = 5}));
  EXPECT_EQ(AuditHold({.task_state = ""}), "hold without a task");
  EXPECT_EQ(AuditHold({.task_state = "failed", .settlements = 2}), "finished task settled 2 times");
  EXPECT_EQ(AuditHold({.task_state = "queued", .settlements = 1}), "settled before the task finished");
  EXPECT_EQ(AuditHold({.task_state = "failed", .settlements = 1, .settled_minus_held_permanent = -3}),
            "settled for a different amount than held");
  EXPECT_EQ(AuditHold({.task_state = "running", .ledger_usage = 5, .task_usage = 4}),
            "the task shows a usage of 4 but the ledger 5");
  EXPECT_FALSE(AuditBalances(1, 2, 1, 2));
  EXPECT_EQ(AuditBalances(1, 2, 1, 3), "balances 1+2 but the ledger sums to 1+3");
}

}  // namespace
}  // namespace wanserve::billing
