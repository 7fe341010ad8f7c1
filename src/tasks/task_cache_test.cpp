#include "tasks/task_cache.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace wanserve::tasks {
namespace {

core::Task Make(const std::string& id, core::TaskState state) {
  core::Task t;
  t.id = id;
  t.state = state;
  return t;
}

TEST(TaskCache, ActiveEntriesExpireQuicklyFinishedOnesLater) {
  auto clock = std::make_shared<testing::FakeClock>();
  TaskCache cache(clock, {100, 5000, 10});
  cache.Put(Make("q", core::TaskState::kQueued));
  cache.Put(Make("s", core::TaskState::kSucceeded));
  EXPECT_TRUE(cache.Find("q").has_value());
  clock->Advance(100);
  EXPECT_FALSE(cache.Find("q").has_value());
  EXPECT_TRUE(cache.Find("s").has_value());
  clock->Advance(5000);
  EXPECT_FALSE(cache.Find("s").has_value());
}

TEST(TaskCache, InvalidateAndLeastRecentlyUsedEviction) {
  auto clock = std::make_shared<testing::FakeClock>();
  TaskCache cache(clock, {1000, 1000, 2});
  cache.Put(Make("a", core::TaskState::kQueued));
  cache.Put(Make("b", core::TaskState::kQueued));
  EXPECT_TRUE(cache.Find("a").has_value());  // a is now the most recent
  cache.Put(Make("c", core::TaskState::kQueued));
  EXPECT_FALSE(cache.Find("b").has_value());
  EXPECT_TRUE(cache.Find("a").has_value());
  cache.Invalidate("a");
  EXPECT_FALSE(cache.Find("a").has_value());
  EXPECT_TRUE(cache.Find("c").has_value());
}

TEST(TaskCache, DisabledByDefault) {
  TaskCache cache(std::make_shared<testing::FakeClock>(), {});
  cache.Put(Make("a", core::TaskState::kQueued));
  EXPECT_FALSE(cache.Find("a").has_value());
}

}  // namespace
}  // namespace wanserve::tasks
