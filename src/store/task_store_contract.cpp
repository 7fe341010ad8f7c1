#include "store/task_store_contract.h"

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

namespace wanserve::store {
namespace {

using core::Task;
using core::TaskState;

Task MakeTask(const std::string& id, int64_t created_ms, const std::string& key = "key_a") {
  Task t;
  t.id = id;
  t.dialect = "unified";
  t.key_id = key;
  t.model_alias = "wan2.7-text-to-video";
  t.client_echo = R"({"prompt":"p"})";
  t.request.kind = core::RequestKind::kTextToVideo;
  t.request.model = "wan2.7-t2v";
  t.request.prompt = "p";
  t.created_ms = created_ms;
  t.usage = {5, 3, 2};
  return t;
}

TEST_P(TaskStoreContract, InsertThenGetReturnsTheQueuedTask) {
  ASSERT_TRUE(store_->Insert(MakeTask("t1", 1000), {}).ok());
  auto t = store_->Get("t1");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->state, TaskState::kQueued);
  EXPECT_EQ(t->request.prompt, "p");
  EXPECT_EQ(t->client_echo, R"({"prompt":"p"})");
  EXPECT_EQ(t->usage.total, 0) << "usage is what was held, and nothing was";
  EXPECT_EQ(t->created_ms, 1000);
}

TEST_P(TaskStoreContract, DuplicateIdIsAConflictAndUnknownIdNotFound) {
  ASSERT_TRUE(store_->Insert(MakeTask("t1", 1000), {}).ok());
  auto dup = store_->Insert(MakeTask("t1", 1001), {});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  auto missing = store_->Get("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_P(TaskStoreContract, AnIdempotencyKeyNamesOneLiveTaskPerApiKey) {
  auto with_key = [](int64_t since_ms) {
    Hold h;
    h.idempotency = {"order-1", "hash-a", since_ms};
    return h;
  };
  auto first = MakeTask("t1", 1000);
  ASSERT_TRUE(store_->Insert(first, with_key(0)).ok());
  auto found = store_->FindIdempotentSubmit(first.key_id, "order-1", 0);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->task_id, "t1");
  EXPECT_EQ((*found)->request_hash, "hash-a");

  auto taken = store_->Insert(MakeTask("t2", 2000), with_key(0));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().detail_code, kIdempotencyKeyTaken);
  EXPECT_EQ(store_->Get("t2").error().code, ErrorCode::kNotFound) << "the refused task is not stored";

  auto other_key = MakeTask("t3", 2000);
  other_key.key_id = "another_key";
  EXPECT_TRUE(store_->Insert(other_key, with_key(0)).ok()) << "keys are per API key";

  // Once the record is older than the window, the key names the next task.
  EXPECT_FALSE(store_->FindIdempotentSubmit(first.key_id, "order-1", 1001)->has_value());
  ASSERT_TRUE(store_->Insert(MakeTask("t4", 5000), with_key(1001)).ok());
  EXPECT_EQ((*store_->FindIdempotentSubmit(first.key_id, "order-1", 0))->task_id, "t4");

  auto pruned = store_->PruneIdempotencyKeys(4000);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1) << "another_key's record of 2000";
  EXPECT_TRUE(store_->FindIdempotentSubmit(first.key_id, "order-1", 0)->has_value());
}

TEST_P(TaskStoreContract, ClaimTakesOldestFirstAndSetsLease) {
  ASSERT_TRUE(store_->Insert(MakeTask("late", 2000), {}).ok());
  ASSERT_TRUE(store_->Insert(MakeTask("early", 1000), {}).ok());
  auto c = store_->ClaimNext("w1", 5000, 30000);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->id, "early");
  EXPECT_EQ((*c)->state, TaskState::kRunning);
  EXPECT_EQ((*c)->attempts, 1);
  EXPECT_EQ((*c)->lease_owner, "w1");
  EXPECT_EQ((*c)->lease_expires_ms, 35000);
  EXPECT_EQ((*c)->started_ms, 5000);
  auto c2 = store_->ClaimNext("w2", 5000, 30000);
  ASSERT_TRUE(c2.ok() && c2->has_value());
  EXPECT_EQ((*c2)->id, "late");
  auto none = store_->ClaimNext("w3", 5000, 30000);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(TaskStoreContract, AClaimOfRoutesTakesOnlyTasksOfThoseModelsAndKinds) {
  Task image = MakeTask("image", 1000);
  image.request.model = "wan2.7-image";
  image.request.kind = core::RequestKind::kTextToImage;
  ASSERT_TRUE(store_->Insert(image, {}).ok());
  ASSERT_TRUE(store_->Insert(MakeTask("video", 2000), {}).ok());
  const std::string video_route = core::RouteOf("wan2.7-t2v", core::RequestKind::kTextToVideo);
  auto none = store_->ClaimNextOf("w", 5000, 30000, {core::RouteOf("wan2.7-t2v", core::RequestKind::kImageToVideo)});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "the same model, another kind";
  auto video = store_->ClaimNextOf("w", 5000, 30000, {"wan2.7-r2v/reference_to_video", video_route});
  ASSERT_TRUE(video.ok() && video->has_value());
  EXPECT_EQ((*video)->id, "video") << "the older image task is not this worker's";
  auto any = store_->ClaimNext("w2", 5000, 30000);
  ASSERT_TRUE(any.ok() && any->has_value());
  EXPECT_EQ((*any)->id, "image");
}

TEST_P(TaskStoreContract, ConcurrentClaimsNeverHandOutATaskTwice) {
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(store_->Insert(MakeTask(fmt::format("t{}", i), i), {}).ok());
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> threads;
  for (int w = 0; w < 6; ++w) {
    threads.emplace_back([&, w] {
      for (;;) {
        auto c = store_->ClaimNext(fmt::format("w{}", w), 1, 1000);
        if (!c.ok() || !c->has_value()) return;
        std::lock_guard lock(mu);
        claimed.insert((*c)->id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), 60u);
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 60u);
}

TEST_P(TaskStoreContract, CompleteIsACompareAndSwapOnTheLease) {
  ASSERT_TRUE(store_->Insert(MakeTask("t1", 1), {}).ok());
  auto c = store_->ClaimNext("w1", 10, 100);
  ASSERT_TRUE(c.ok() && c->has_value());
  LeaseToken stale{"t1", "w0", 1};
  auto wrong = store_->Complete(stale, {}, 20);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kConflict);

  LeaseToken lease{"t1", "w1", 1};
  ASSERT_TRUE(store_->UpdateProgress(lease, 40, 15).ok());
  EXPECT_EQ(store_->Get("t1")->progress, 40);
  std::vector<core::Output> outs = {{"b1", "image", "image/png", "a.png", 64, 64, 0, 1, 10}};
  ASSERT_TRUE(store_->Complete(lease, outs, 20).ok());
  auto t = store_->Get("t1");
  EXPECT_EQ(t->state, TaskState::kSucceeded);
  EXPECT_EQ(t->progress, 100);
  EXPECT_EQ(t->outputs, outs);
  EXPECT_EQ(t->finished_ms, 20);
  // Terminal states are final.
  EXPECT_FALSE(store_->Fail(lease, {ErrorCode::kInternal, "x", "y"}, 30).ok());
  EXPECT_EQ(store_->Get("t1")->state, TaskState::kSucceeded);
}

TEST_P(TaskStoreContract, FailRecordsTheError) {
  ASSERT_TRUE(store_->Insert(MakeTask("t1", 1), {}).ok());
  ASSERT_TRUE(store_->ClaimNext("w1", 10, 100)->has_value());
  ASSERT_TRUE(store_->Fail({"t1", "w1", 1}, {ErrorCode::kUpstreamFailed, "boom", "it broke"}, 20).ok());
  auto t = store_->Get("t1");
  EXPECT_EQ(t->state, TaskState::kFailed);
  ASSERT_TRUE(t->error.has_value());
  EXPECT_EQ(t->error->code, ErrorCode::kUpstreamFailed);
  EXPECT_EQ(t->error->detail_code, "boom");
  EXPECT_EQ(t->error->message, "it broke");
}

TEST_P(TaskStoreContract, CancelQueuedIsImmediateRunningIsRequestedTerminalConflicts) {
  ASSERT_TRUE(store_->Insert(MakeTask("q", 1), {}).ok());
  auto r = store_->RequestCancel("q", 5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, TaskState::kCanceled);
  EXPECT_EQ(store_->Get("q")->state, TaskState::kCanceled);
  // A canceled task is never claimed.
  EXPECT_FALSE(store_->ClaimNext("w", 6, 10)->has_value());

  ASSERT_TRUE(store_->Insert(MakeTask("r", 2), {}).ok());
  ASSERT_TRUE(store_->ClaimNext("w", 6, 100)->has_value());
  r = store_->RequestCancel("r", 7);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, TaskState::kRunning);
  auto renew = store_->RenewLease({"r", "w", 1}, 8, 100);
  ASSERT_TRUE(renew.ok());
  EXPECT_TRUE(*renew);
  ASSERT_TRUE(store_->FinishCanceled({"r", "w", 1}, 9).ok());
  EXPECT_EQ(store_->Get("r")->state, TaskState::kCanceled);

  auto again = store_->RequestCancel("r", 10);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->RequestCancel("missing", 10).error().code, ErrorCode::kNotFound);
}

TEST_P(TaskStoreContract, ExpiredLeasesRequeueThenFailAfterMaxAttempts) {
  ASSERT_TRUE(store_->Insert(MakeTask("t", 1), {}).ok());
  int64_t now = 100;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto c = store_->ClaimNext(fmt::format("w{}", attempt), now, 50);
    ASSERT_TRUE(c.ok() && c->has_value()) << "attempt " << attempt;
    EXPECT_EQ((*c)->attempts, attempt);
    // Not yet expired: nothing happens.
    auto early = store_->RecoverExpiredLeases(now + 10, 3);
    ASSERT_TRUE(early.ok());
    EXPECT_EQ(early->requeued + early->failed, 0);
    now += 100;
    auto rep = store_->RecoverExpiredLeases(now, 3);
    ASSERT_TRUE(rep.ok());
    if (attempt < 3) {
      EXPECT_EQ(rep->requeued, 1);
      EXPECT_EQ(store_->Get("t")->state, TaskState::kQueued);
      // The old worker's late completion must lose.
      EXPECT_FALSE(store_->Complete({"t", fmt::format("w{}", attempt), attempt}, {}, now).ok());
    } else {
      EXPECT_EQ(rep->failed, 1);
    }
  }
  auto t = store_->Get("t");
  EXPECT_EQ(t->state, TaskState::kFailed);
  EXPECT_EQ(t->error->detail_code, "lease_expired");
}

TEST_P(TaskStoreContract, ReleaseRequeuesWithoutSpendingAnAttempt) {
  ASSERT_TRUE(store_->Insert(MakeTask("t", 1), {}).ok());
  ASSERT_TRUE(store_->ClaimNext("w", 2, 100)->has_value());
  EXPECT_FALSE(store_->Release({"t", "other", 1}, 3).ok());
  ASSERT_TRUE(store_->Release({"t", "w", 1}, 3).ok());
  auto t = store_->Get("t");
  EXPECT_EQ(t->state, TaskState::kQueued);
  EXPECT_EQ(t->attempts, 0);
  auto again = store_->ClaimNext("w2", 4, 100);
  ASSERT_TRUE(again->has_value());
  EXPECT_EQ((*again)->attempts, 1);
}

TEST_P(TaskStoreContract, ListActiveIsPerKeyAndCountByStateCounts) {
  ASSERT_TRUE(store_->Insert(MakeTask("a1", 1, "key_a"), {}).ok());
  ASSERT_TRUE(store_->Insert(MakeTask("a2", 2, "key_a"), {}).ok());
  ASSERT_TRUE(store_->Insert(MakeTask("b1", 3, "key_b"), {}).ok());
  ASSERT_TRUE(store_->RequestCancel("a2", 4).ok());
  auto active = store_->ListActive("key_a", 10);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].id, "a1");
  auto counts = store_->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[TaskState::kQueued], 2);
  EXPECT_EQ((*counts)[TaskState::kCanceled], 1);
}

TEST_P(TaskStoreContract, ListRecentIsPerKeyNewestFirstInEveryState) {
  for (int i = 1; i <= 6; ++i) ASSERT_TRUE(store_->Insert(MakeTask("a" + std::to_string(i), i, "key_a"), {}).ok());
  ASSERT_TRUE(store_->Insert(MakeTask("b1", 7, "key_b"), {}).ok());
  ASSERT_TRUE(store_->RequestCancel("a2", 8).ok());                 // canceled
  ASSERT_TRUE(store_->ClaimNext("w", 9, 100)->has_value());         // a1 running
  auto recent = store_->ListRecent("key_a", 4);
  ASSERT_TRUE(recent.ok()) << recent.error().message;
  std::vector<std::string> ids;
  for (const auto& t : *recent) ids.push_back(t.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a6", "a5", "a4", "a3"}));
  auto all = store_->ListRecent("key_a", 10);
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ(all->back().id, "a1");
  EXPECT_EQ(all->back().state, TaskState::kRunning);
  EXPECT_EQ((*all)[4].state, TaskState::kCanceled);
  EXPECT_TRUE(store_->ListRecent("key_c", 10)->empty());
}

TEST_P(TaskStoreContract, OutputsFinishedBeforeCutoffAreListedUntilMarkedExpired) {
  ASSERT_TRUE(store_->Insert(MakeTask("t", 1), {}).ok());
  ASSERT_TRUE(store_->ClaimNext("w", 2, 100)->has_value());
  std::vector<core::Output> outs = {{"blob1", "image", "image/png", "a.png", 1, 1, 0, 1, 1}};
  ASSERT_TRUE(store_->Complete({"t", "w", 1}, outs, 10).ok());
  EXPECT_TRUE(store_->ListOutputsFinishedBefore(10, 10)->empty());
  auto due = store_->ListOutputsFinishedBefore(11, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].outputs[0].blob_id, "blob1");
  ASSERT_TRUE(store_->MarkOutputsExpired("t").ok());
  EXPECT_TRUE(store_->ListOutputsFinishedBefore(11, 10)->empty());
  EXPECT_TRUE(store_->Get("t")->outputs_expired);
}

TEST_P(TaskStoreContract, KeysAreFoundByHashAndRevoked) {
  ASSERT_TRUE(store_->InsertKey({"key_1", store::kDefaultAccountId, "ci", "hash1", "ws_abc", 5, 0, 0, 0, false}).ok());
  auto k = store_->FindActiveKeyByHash("hash1");
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->id, "key_1");
  EXPECT_EQ(store_->FindActiveKeyByHash("other").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->RevokeKey("key_1", 9).ok());
  EXPECT_FALSE(store_->FindActiveKeyByHash("hash1").ok());
  EXPECT_EQ(store_->RevokeKey("key_1", 9).error().code, ErrorCode::kNotFound);
  auto keys = store_->ListKeys();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].revoked_ms, 9);
}

TEST_P(LedgerContract, HoldSpendsSubscriptionFirstAndRefusesWhenShort) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {30, 10'000, 100, "plan"}, 1).ok());
  auto u = store_->Insert(Paid("t1"), {"acct_a", 50, ""});
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->total, 50);
  EXPECT_EQ(u->subscription, 30);
  EXPECT_EQ(u->permanent, 20);
  EXPECT_EQ(store_->Get("t1")->usage.permanent, 20);
  Expect(0, 80);
  auto refused = store_->Insert(Paid("t2"), {"acct_a", 81, ""});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInsufficientCredits);
  EXPECT_EQ(store_->Get("t2").error().code, ErrorCode::kNotFound) << "no task without its hold";
  Expect(0, 80);
}

TEST_P(LedgerContract, SuccessCapturesFailureAndCancelRelease) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {0, 0, 100, "pack"}, 1).ok());
  for (const char* id : {"ok", "bad", "cq", "cr"}) ASSERT_TRUE(store_->Insert(Paid(id), {"acct_a", 10, ""}).ok());
  Expect(0, 60);
  ASSERT_TRUE(store_->RequestCancel("cq", 2).ok());  // queued: released at once
  Expect(0, 70);
  std::map<std::string, int> attempt;
  for (int i = 0; i < 3; ++i) {
    auto c = store_->ClaimNext("w", 3, 1000);
    ASSERT_TRUE(c.ok() && c->has_value());
    attempt[(*c)->id] = (*c)->attempts;
  }
  ASSERT_TRUE(store_->Complete({"ok", "w", attempt["ok"]}, {}, 4).ok());
  ASSERT_TRUE(store_->Fail({"bad", "w", attempt["bad"]}, {ErrorCode::kUpstreamFailed, "x", "y"}, 4).ok());
  ASSERT_TRUE(store_->RequestCancel("cr", 4).ok());
  ASSERT_TRUE(store_->FinishCanceled({"cr", "w", attempt["cr"]}, 5).ok());
  Expect(0, 90);
  EXPECT_EQ(store_->Get("ok")->usage.total, 10);
  EXPECT_EQ(store_->Get("bad")->usage.total, 0) << "a failed task shows no charge";
}

TEST_P(LedgerContract, LeaseExpiryAfterMaxAttemptsReleasesAndSubscriptionThatLapsedGoesToNothing) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {40, 100, 0, "short plan"}, 1).ok());
  ASSERT_TRUE(store_->Insert(Paid("t"), {"acct_a", 25, ""}).ok());
  Expect(15, 0);
  auto claimed = store_->ClaimNext("w", 2, 10);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_TRUE(claimed->has_value());
  // The subscription expires at 100; the worker vanished; recovery at 200 gives up. The held
  // part goes back to the expired subscription and lapses with the rest of it.
  auto rep = store_->RecoverExpiredLeases(200, 1);
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->failed, 1);
  Expect(0, 0);
  EXPECT_EQ(store_->Get("t")->usage.total, 0) << "a failed task costs nothing";
  // Nothing of the expired subscription is left to spend.
  auto late = Paid("t2");
  late.created_ms = 300;
  auto refused = store_->Insert(late, {"acct_a", 1, ""});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInsufficientCredits);
  Expect(0, 0);
}

TEST_P(LedgerContract, APriceLoweredAfterTheSubscriptionExpiredChargesExactlyTheUsage) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {40, 100, 10, "short plan"}, 1).ok());
  ASSERT_TRUE(store_->Insert(Paid("t"), {"acct_a", 30, ""}).ok());
  Expect(10, 10);  // 30 of the subscription held, 10 left
  auto claimed = store_->ClaimNext("w", 2, 1000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  const LeaseToken lease{"t", "w", (*claimed)->attempts};
  // The edit's input is probed at 150, after the subscription expired: the price is 16.
  auto lowered = store_->LowerHold(lease, 16, 150);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message;
  EXPECT_EQ(lowered->total, 16);
  ASSERT_TRUE(store_->Complete(lease, {}, 160).ok());
  auto a = store_->GetAccount("acct_a");
  EXPECT_EQ(a->subscription_balance, 0) << "the 14 given back lapsed with the expired subscription";
  EXPECT_EQ(a->permanent_balance, 10);
  EXPECT_EQ(store_->Get("t")->usage.total, 16);
  // The ledger explains the balance and the task's usage alike.
  auto problems = store_->CheckLedger();
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty()) << problems->front().what;
  // A new subscription grant starts from nothing expired.
  ASSERT_TRUE(store_->GrantCredits("acct_a", {50, 1000, 0, "renewal"}, 200).ok());
  EXPECT_EQ(store_->GetAccount("acct_a")->subscription_balance, 50);
}

TEST_P(LedgerContract, ConcurrentSubmitsNeverOverdraw) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {0, 0, 57, "exact"}, 1).ok());
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 25; ++i) {
        if (store_->Insert(Paid(fmt::format("c{}_{}", th, i)), {"acct_a", 1, ""}).ok()) ++accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 57);
  Expect(0, 0);
}

TEST_P(LedgerContract, ARefusedSubmitAmongConcurrentOnesTakesNoneOfTheOthersWithIt) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {0, 0, 1000, "x"}, 1).ok());
  std::atomic<int> dup_accepted{0}, dup_conflicts{0}, unique_accepted{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < 10; ++i) {
        auto dup = store_->Insert(Paid(fmt::format("dup{}", i)), {"acct_a", 3, ""});
        if (dup.ok()) ++dup_accepted;
        if (!dup.ok() && dup.error().code == ErrorCode::kConflict) ++dup_conflicts;
        if (store_->Insert(Paid(fmt::format("u{}_{}", th, i)), {"acct_a", 1, ""}).ok()) ++unique_accepted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(dup_accepted.load(), 10) << "each id once";
  EXPECT_EQ(dup_conflicts.load(), 70);
  EXPECT_EQ(unique_accepted.load(), 80);
  Expect(0, 1000 - 10 * 3 - 80);  // a refused insert held nothing
  for (int i = 0; i < 10; ++i) EXPECT_EQ(store_->Get(fmt::format("dup{}", i))->usage.total, 3);
}

TEST_P(LedgerContract, KeySubmitsPerMinuteIsATokenBucket) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {0, 0, 1000, "x"}, 1).ok());
  ASSERT_TRUE(store_->InsertKey({"key_r", "acct_a", "r", "hr", "p", 1, 0, 3, 0, false}).ok());
  auto at = [&](const std::string& id, int64_t ms) {
    auto t = Paid(id);
    t.created_ms = ms;
    return store_->Insert(t, {"acct_a", 1, "key_r"});
  };
  EXPECT_TRUE(at("r1", 1000).ok());
  EXPECT_TRUE(at("r2", 1000).ok());
  EXPECT_TRUE(at("r3", 1000).ok());
  auto limited = at("r4", 1000);
  ASSERT_FALSE(limited.ok());
  EXPECT_EQ(limited.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(limited.error().retry_after_s, 20) << "one token refills in 60 s / 3";
  EXPECT_FALSE(store_->Get("r4").ok());
  EXPECT_FALSE(at("r5", 1000 + 19'000).ok());
  EXPECT_TRUE(at("r6", 1000 + 20'000).ok());
  Expect(0, 996);
}

TEST_P(LedgerContract, AccountConcurrencyAndKeyCreditCap) {
  ASSERT_TRUE(store_->InsertAccount({"acct_c", "c", 0, false, 0, 0, 0, 2, "", ""}, {}, 1).ok());
  ASSERT_TRUE(store_->GrantCredits("acct_c", {0, 0, 1000, "x"}, 1).ok());
  ASSERT_TRUE(store_->InsertKey({"key_c", "acct_c", "c", "hc", "p", 1, 0, 0, 25, false}).ok());
  auto submit = [&](const std::string& id, int64_t amount) {
    auto t = Paid(id);
    t.account_id = "acct_c";
    t.key_id = "key_c";
    return store_->Insert(t, {"acct_c", amount, "key_c"});
  };
  EXPECT_TRUE(submit("a", 10).ok());
  EXPECT_TRUE(submit("b", 10).ok());
  auto busy = submit("c", 1);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().code, ErrorCode::kRateLimited) << "2 tasks are queued, the limit is 2";
  ASSERT_TRUE(store_->RequestCancel("a", 2).ok());  // frees a slot and releases 10
  auto over_cap = submit("d", 16);
  ASSERT_FALSE(over_cap.ok());
  EXPECT_EQ(over_cap.error().code, ErrorCode::kInsufficientCredits) << "10 held + 16 > cap 25";
  EXPECT_TRUE(submit("e", 15).ok());
}

TEST_P(LedgerContract, LoweringAHoldReturnsPermanentCreditsFirstAndSettlesTheRest) {
  ASSERT_TRUE(store_->GrantCredits("acct_a", {30, 10'000, 100, "plan"}, 1).ok());
  // 40 held: 30 subscription, 10 permanent. Lowered to 25: the 10 permanent go back, then 5
  // of the subscription.
  ASSERT_TRUE(store_->Insert(Paid("edit"), {"acct_a", 40, ""}).ok());
  ASSERT_TRUE(store_->Insert(Paid("edit2"), {"acct_a", 20, ""}).ok());
  Expect(0, 70);
  auto c1 = store_->ClaimNext("w", 2, 1000);
  ASSERT_TRUE(c1.ok() && c1->has_value());
  EXPECT_EQ(store_->LowerHold({"edit", "other", (*c1)->attempts}, 1, 3).error().code, ErrorCode::kConflict)
      << "only the lease holder settles the price";
  auto lowered = store_->LowerHold({"edit", "w", (*c1)->attempts}, 25, 3);
  ASSERT_TRUE(lowered.ok()) << lowered.error().message;
  EXPECT_EQ(lowered->total, 25);
  EXPECT_EQ(lowered->subscription, 25);
  EXPECT_EQ(lowered->permanent, 0);
  EXPECT_EQ(store_->Get("edit")->usage.total, 25);
  Expect(5, 80);
  auto again = store_->LowerHold({"edit", "w", (*c1)->attempts}, 30, 4);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->total, 25) << "a higher price never raises the hold";
  ASSERT_TRUE(store_->Complete({"edit", "w", (*c1)->attempts}, {}, 5).ok());
  Expect(5, 80);
  EXPECT_EQ(store_->Get("edit")->usage.total, 25);
  // A lowered hold that fails releases only what is still held.
  auto c2 = store_->ClaimNext("w", 6, 1000);
  ASSERT_TRUE(c2.ok() && c2->has_value());
  ASSERT_TRUE(store_->LowerHold({"edit2", "w", (*c2)->attempts}, 12, 7).ok());
  Expect(5, 88);
  ASSERT_TRUE(store_->Fail({"edit2", "w", (*c2)->attempts}, {ErrorCode::kUpstreamFailed, "x", "y"}, 8).ok());
  Expect(5, 100);
  EXPECT_EQ(store_->Get("edit2")->usage.total, 0);
}

TEST_P(LedgerContract, AnAccountComesWithItsInitialCreditsOrNotAtAll) {
  ASSERT_TRUE(store_->InsertAccount({"acct_i", "initial", 0, false, 0, 0, 0, 0, "", ""},
                                    {30, 10'000, 70, "initial credits"}, 1).ok());
  auto made = store_->GetAccount("acct_i");
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->subscription_balance, 30);
  EXPECT_EQ(made->subscription_expires_ms, 10'000);
  EXPECT_EQ(made->permanent_balance, 70);
  auto problems = store_->CheckLedger();
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty()) << "the grant is in the ledger beside the balances";

  // A grant the store refuses takes the account with it.
  EXPECT_FALSE(store_->InsertAccount({"acct_j", "refused", 0, false, 0, 0, 0, 0, "", ""},
                                     {0, 0, -5, "initial credits"}, 1).ok());
  EXPECT_EQ(store_->GetAccount("acct_j").error().code, ErrorCode::kNotFound);
  // And a name already taken leaves no stray ledger entry behind.
  EXPECT_EQ(store_->InsertAccount({"acct_k", "initial", 0, false, 0, 0, 0, 0, "", ""},
                                  {0, 0, 5, "initial credits"}, 1).error().code, ErrorCode::kConflict);
  problems = store_->CheckLedger();
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());
}

TEST_P(LedgerContract, GrantsNeedAnAccountAndPositiveAmounts) {
  EXPECT_EQ(store_->GrantCredits("nope", {0, 0, 5, "x"}, 1).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(store_->GrantCredits("acct_a", {0, 0, -5, "x"}, 1).ok());
  EXPECT_EQ(store_->InsertAccount({"acct_b", "a", 0, false, 0, 0, 0, 0, "", ""}, {}, 1).error().code, ErrorCode::kConflict);
  auto def = store_->GetAccount(kDefaultAccountId);
  ASSERT_TRUE(def.ok());
  EXPECT_TRUE(def->unlimited);
}

}  // namespace
}  // namespace wanserve::store

namespace wanserve::store {
namespace {

core::Task TaskWithCallback(const std::string& id, const std::string& url, const std::string& account = kDefaultAccountId) {
  core::Task t = testing::SampleTask(id, 1000);
  t.account_id = account;
  t.request.callback_url = url;
  return t;
}

TEST_P(TaskStoreContract, EveryTerminalTransitionQueuesItsCallbackInTheSameStep) {
  ASSERT_TRUE(store_->Insert(TaskWithCallback("ok", "https://hooks.example/ok"), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("bad", "https://hooks.example/bad"), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("quiet", ""), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("gone", "https://hooks.example/gone"), {}).ok());
  EXPECT_TRUE(store_->ClaimDueCallbacks(5000, 1000, 10)->empty()) << "nothing finished yet";

  ASSERT_TRUE(store_->RequestCancel("gone", 1500).ok());
  auto ok = store_->ClaimNext("w", 2000, 30000);
  auto bad = store_->ClaimNext("w", 2000, 30000);
  auto quiet = store_->ClaimNext("w", 2000, 30000);
  ASSERT_TRUE(ok.ok() && bad.ok() && quiet.ok());
  ASSERT_TRUE(store_->Complete({"ok", "w", 1}, {}, 3000).ok());
  ASSERT_TRUE(store_->Fail({"bad", "w", 1}, {ErrorCode::kUpstreamFailed, "x", "boom"}, 3000).ok());
  ASSERT_TRUE(store_->Complete({"quiet", "w", 1}, {}, 3000).ok());

  auto due = store_->ClaimDueCallbacks(5000, 15000, 10);
  ASSERT_TRUE(due.ok()) << due.error().message;
  ASSERT_EQ(due->size(), 3u);
  std::map<std::string, CallbackDelivery> by_task;
  for (const auto& d : *due) by_task[d.task_id] = d;
  EXPECT_EQ(by_task["ok"].event, "task.completed");
  EXPECT_EQ(by_task["ok"].url, "https://hooks.example/ok");
  EXPECT_EQ(by_task["bad"].event, "task.failed");
  EXPECT_EQ(by_task["gone"].event, "task.canceled");
  EXPECT_EQ(by_task["ok"].attempts, 1);
  EXPECT_TRUE(by_task["ok"].id.starts_with("msg_"));
  EXPECT_TRUE(store_->ClaimDueCallbacks(5000, 15000, 10)->empty()) << "claimed rows are leased";
}

TEST_P(TaskStoreContract, AttemptsAreRecordedAndALostClaimCannotOverwrite) {
  ASSERT_TRUE(store_->Insert(TaskWithCallback("t", "https://hooks.example/t"), {}).ok());
  ASSERT_TRUE(store_->RequestCancel("t", 1500).ok());
  auto first = store_->ClaimDueCallbacks(2000, 10000, 10);
  ASSERT_EQ(first->size(), 1u);
  const std::string id = first->front().id;
  ASSERT_TRUE(store_->RecordCallbackAttempt({id, 1, 2000, 30, 503, "HTTP 503"}, false, 3000, 2030).ok());
  EXPECT_TRUE(store_->ClaimDueCallbacks(2999, 10000, 10)->empty()) << "not due before the retry time";
  auto second = store_->ClaimDueCallbacks(3000, 10000, 10);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ(second->front().id, id) << "a retry keeps the webhook id";
  EXPECT_EQ(second->front().attempts, 2);
  // The claim expired and someone else started attempt 3; attempt 2's late answer is refused.
  auto third = store_->ClaimDueCallbacks(13001, 10000, 10);
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ(store_->RecordCallbackAttempt({id, 2, 3000, 10, 200, ""}, true, 0, 13002).error().code,
            ErrorCode::kConflict);
  ASSERT_TRUE(store_->RecordCallbackAttempt({id, 3, 13001, 12, 204, ""}, true, 0, 13013).ok());
  auto list = store_->ListCallbacks("t");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().state, DeliveryState::kDelivered);
  EXPECT_EQ(list->front().finished_ms, 13013);
  auto attempts = store_->ListCallbackAttempts(id);
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ(attempts->at(0).status_code, 503);
  EXPECT_EQ(attempts->at(1).attempt, 3);
  EXPECT_TRUE(store_->ClaimDueCallbacks(99999, 10000, 10)->empty());
}

TEST_P(TaskStoreContract, GivingUpFailsTheDeliveryAndResendStartsANewOne) {
  ASSERT_TRUE(store_->Insert(TaskWithCallback("t", "https://hooks.example/t"), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("running", "https://hooks.example/r"), {}).ok());
  EXPECT_EQ(store_->ResendCallback("running", 1100).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->RequestCancel("t", 1500).ok());
  auto claim = store_->ClaimDueCallbacks(2000, 10000, 10);
  ASSERT_EQ(claim->size(), 1u);
  ASSERT_TRUE(store_->RecordCallbackAttempt({claim->front().id, 1, 2000, 5, 0, "connect_failed"}, false, 0, 2005).ok());
  EXPECT_EQ(store_->ListCallbacks("t")->front().state, DeliveryState::kFailed);
  auto resent = store_->ResendCallback("t", 9000);
  ASSERT_TRUE(resent.ok()) << resent.error().message;
  EXPECT_NE(resent->id, claim->front().id);
  EXPECT_EQ(resent->event, "task.canceled");
  EXPECT_EQ(store_->ListCallbacks("t")->size(), 2u);
  EXPECT_EQ(store_->ClaimDueCallbacks(9000, 10000, 10)->size(), 1u);
  EXPECT_EQ(store_->ResendCallback("nope", 9000).error().code, ErrorCode::kNotFound);
}

TEST_P(TaskStoreContract, AccountWebhookIsTheDefaultEndpointAndEachAccountHasASecret) {
  ASSERT_TRUE(store_->InsertAccount({"acct_h", "hooked", 0, true, 0, 0, 0, 0, "https://acme.example/hook", ""}, {}, 1).ok());
  ASSERT_TRUE(store_->InsertAccount({"acct_q", "quiet", 0, true, 0, 0, 0, 0, "", ""}, {}, 1).ok());
  auto hooked = store_->GetAccount("acct_h");
  auto quiet = store_->GetAccount("acct_q");
  ASSERT_TRUE(hooked.ok() && quiet.ok());
  EXPECT_TRUE(hooked->webhook_secret.starts_with("whsec_"));
  EXPECT_EQ(hooked->webhook_secret.size(), 6u + 32u);  // 24 random bytes in base64
  EXPECT_NE(hooked->webhook_secret, quiet->webhook_secret);
  EXPECT_TRUE(store_->GetAccount(kDefaultAccountId)->webhook_secret.size() == 38u) << "migrated accounts get one too";

  ASSERT_TRUE(store_->Insert(TaskWithCallback("a", "", "acct_h"), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("b", "https://own.example/cb", "acct_h"), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("c", "", "acct_q"), {}).ok());
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(store_->RequestCancel(id, 1500).ok());
  EXPECT_EQ(store_->ListCallbacks("a")->front().url, "https://acme.example/hook");
  EXPECT_EQ(store_->ListCallbacks("b")->front().url, "https://own.example/cb");
  EXPECT_TRUE(store_->ListCallbacks("c")->empty());
  ASSERT_TRUE(store_->SetAccountWebhookUrl("acct_q", "https://later.example/").ok());
  EXPECT_EQ(store_->ResendCallback("c", 2000)->url, "https://later.example/");
  EXPECT_EQ(store_->SetAccountWebhookUrl("acct_none", "").error().code, ErrorCode::kNotFound);
}

TEST_P(TaskStoreContract, DeadLettersAreListedAndEachIsResentOnceToItsOwnUrl) {
  ASSERT_TRUE(store_->InsertAccount({"acct_d", "dead", 0, true, 0, 0, 0, 0, "", ""}, {}, 1).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("x", "https://hooks.example/x", "acct_d"), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("y", "https://hooks.example/y"), {}).ok());
  ASSERT_TRUE(store_->Insert(TaskWithCallback("z", "https://hooks.example/z"), {}).ok());
  for (const char* id : {"x", "y", "z"}) ASSERT_TRUE(store_->RequestCancel(id, 1500).ok());
  auto claim = store_->ClaimDueCallbacks(2000, 10000, 10);
  ASSERT_EQ(claim->size(), 3u);
  std::map<std::string, std::string> id_of;
  for (const auto& d : *claim) id_of[d.task_id] = d.id;
  // x and y are given up, z is delivered.
  ASSERT_TRUE(store_->RecordCallbackAttempt({id_of["x"], 1, 2000, 5, 500, "HTTP 500"}, false, 0, 2005).ok());
  ASSERT_TRUE(store_->RecordCallbackAttempt({id_of["y"], 1, 2000, 5, 0, "connect_failed"}, false, 0, 2006).ok());
  ASSERT_TRUE(store_->RecordCallbackAttempt({id_of["z"], 1, 2000, 5, 200, ""}, true, 0, 2007).ok());

  auto dead = store_->ListFailedCallbacks("", 10);
  ASSERT_EQ(dead->size(), 2u);
  for (const auto& letter : *dead) {  // with how its last attempt went
    const bool x = letter.delivery.task_id == "x";
    EXPECT_EQ(letter.last_status_code, x ? 500 : 0);
    EXPECT_EQ(letter.last_error, x ? "HTTP 500" : "connect_failed");
  }
  EXPECT_EQ(store_->ListFailedCallbacks("acct_d", 10)->size(), 1u);
  EXPECT_EQ(store_->ListFailedCallbacks("", 1)->size(), 1u);

  // An account's webhook changed since: a dead letter goes where it was meant to go.
  auto resent = store_->ResendFailedCallback(id_of["x"], 9000);
  ASSERT_TRUE(resent.ok()) << resent.error().message;
  EXPECT_NE(resent->id, id_of["x"]);
  EXPECT_EQ(resent->url, "https://hooks.example/x");
  EXPECT_EQ(resent->event, "task.canceled");
  EXPECT_EQ(resent->state, DeliveryState::kPending);
  EXPECT_EQ(store_->ResendFailedCallback(id_of["x"], 9001).error().code, ErrorCode::kConflict) << "resent once";
  EXPECT_EQ(store_->ResendFailedCallback(id_of["z"], 9001).error().code, ErrorCode::kConflict) << "it was delivered";
  EXPECT_EQ(store_->ResendFailedCallback("msg_nope", 9001).error().code, ErrorCode::kNotFound);
  dead = store_->ListFailedCallbacks("", 10);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().delivery.task_id, "y");
  EXPECT_EQ(dead->front().last_error, "connect_failed");
  EXPECT_EQ(dead->front().last_status_code, 0);
  EXPECT_EQ(store_->ListCallbacks("x")->front().resent_as, resent->id);
  auto due = store_->ClaimDueCallbacks(9000, 10000, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->front().id, resent->id);
}

TEST_P(TaskStoreContract, AnEndpointFailingLongerThanTheLimitIsDisabledUntilEnabled) {
  const std::string e = "https://hooks.example/in";
  EXPECT_FALSE(store_->GetCallbackEndpoint(e)->has_value());
  EXPECT_EQ(store_->EnableCallbackEndpoint(e).error().code, ErrorCode::kNotFound);
  auto first = store_->RecordEndpointResult(e, false, "HTTP 503", 1000, 5000);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->consecutive_failures, 1);
  EXPECT_EQ(first->failing_since_ms, 1000);
  EXPECT_EQ(first->disabled_ms, 0);
  // A success ends the streak; the next failure starts a new one.
  EXPECT_EQ(store_->RecordEndpointResult(e, true, "", 2000, 5000)->failing_since_ms, 0);
  EXPECT_EQ(store_->RecordEndpointResult(e, false, "HTTP 503", 3000, 5000)->failing_since_ms, 3000);
  EXPECT_EQ(store_->RecordEndpointResult(e, false, "timeout", 7999, 5000)->disabled_ms, 0) << "4999 ms of failures";
  auto disabled = store_->RecordEndpointResult(e, false, "timeout", 8000, 5000);
  EXPECT_EQ(disabled->disabled_ms, 8000);
  EXPECT_EQ(disabled->consecutive_failures, 3);
  EXPECT_EQ(disabled->last_error, "timeout");
  EXPECT_EQ(store_->RecordEndpointResult(e, false, "timeout", 9000, 5000)->disabled_ms, 8000) << "stays as disabled";
  ASSERT_TRUE(store_->RecordEndpointResult("https://other.example/", false, "x", 9000, 0).ok());
  EXPECT_EQ(store_->RecordEndpointResult("https://other.example/", false, "x", 99000, 0)->disabled_ms, 0)
      << "a limit of 0 never disables";
  auto all = store_->ListCallbackEndpoints();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->front().endpoint, e) << "disabled ones first";

  ASSERT_TRUE(store_->EnableCallbackEndpoint(e).ok());
  auto enabled = store_->GetCallbackEndpoint(e);
  ASSERT_TRUE(enabled->has_value());
  EXPECT_EQ((*enabled)->disabled_ms, 0);
  EXPECT_EQ((*enabled)->consecutive_failures, 0);
  EXPECT_EQ((*enabled)->failing_since_ms, 0);
}

}  // namespace
}  // namespace wanserve::store
