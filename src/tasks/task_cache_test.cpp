#include "tasks/task_cache.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace wanserve::tasks {
namespace {

TaskSnapshot Make(const std::string& id, core::TaskState state) {
  auto t = std::make_shared<core::Task>();
  t->id = id;
  t->state = state;
  return t;
}

TEST(TaskCache, ActiveEntriesExpireQuicklyFinishedOnesLater) {
  auto clock = std::make_shared<testing::FakeClock>();
  TaskCache cache(clock, {100, 5000, 10});
  cache.Put(Make("q", core::TaskState::kQueued));
  cache.Put(Make("s", core::TaskState::kSucceeded));
  EXPECT_TRUE(cache.Find("q") != nullptr);
  clock->Advance(100);
  EXPECT_FALSE(cache.Find("q") != nullptr);
  EXPECT_TRUE(cache.Find("s") != nullptr);
  clock->Advance(5000);
  EXPECT_FALSE(cache.Find("s") != nullptr);
}

TEST(TaskCache, InvalidateAndLeastRecentlyUsedEviction) {
  auto clock = std::make_shared<testing::FakeClock>();
  TaskCache cache(clock, {1000, 1000, 2});
  cache.Put(Make("a", core::TaskState::kQueued));
  cache.Put(Make("b", core::TaskState::kQueued));
  EXPECT_TRUE(cache.Find("a") != nullptr);  // a is now the most recent
  cache.Put(Make("c", core::TaskState::kQueued));
  EXPECT_FALSE(cache.Find("b") != nullptr);
  EXPECT_TRUE(cache.Find("a") != nullptr);
  cache.Invalidate("a");
  EXPECT_FALSE(cache.Find("a") != nullptr);
  EXPECT_TRUE(cache.Find("c") != nullptr);
}

TEST(TaskCache, AFinishedTaskIsNotServedPastItsLinksExpiry) {
  auto clock = std::make_shared<testing::FakeClock>();
  TaskCache cache(clock, {100, 60'000, 10, 10'000});
  auto done = std::make_shared<core::Task>(*Make("s", core::TaskState::kSucceeded));
  done->finished_ms = clock->NowMs() - 9'000;  // links lapse in 1 s, well before final_ms
  cache.Put(done);
  EXPECT_TRUE(cache.Find("s") != nullptr);
  clock->Advance(1'000);
  EXPECT_FALSE(cache.Find("s") != nullptr) << "the links have lapsed: read the store again";
  cache.Put(done);
  EXPECT_FALSE(cache.Find("s") != nullptr) << "nor cached again until the sweeper marks it";

  auto swept = std::make_shared<core::Task>(*done);
  swept->outputs_expired = true;
  cache.Put(swept);
  EXPECT_TRUE(cache.Find("s") != nullptr) << "marked expired, it no longer changes";
  clock->Advance(60'000);
  EXPECT_FALSE(cache.Find("s") != nullptr);
}

TEST(TaskCache, DisabledByDefault) {
  TaskCache cache(std::make_shared<testing::FakeClock>(), {});
  cache.Put(Make("a", core::TaskState::kQueued));
  EXPECT_FALSE(cache.Find("a") != nullptr);
}

}  // namespace
}  // namespace wanserve::tasks
