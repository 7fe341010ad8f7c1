#include "api/rendered_tasks.h"

#include <gtest/gtest.h>

namespace wanserve::api {
namespace {

tasks::TaskSnapshot Snapshot(const std::string& id, int progress) {
  auto t = std::make_shared<core::Task>();
  t->id = id;
  t->progress = progress;
  return t;
}

TEST(RenderedTasks, RendersOncePerSnapshotAndViewAndAgainWhenTheTaskChanged) {
  RenderedTasks rendered;
  int renders = 0;
  auto render = [&](const core::Task& t) {
    ++renders;
    return t.id + ":" + std::to_string(t.progress);
  };
  auto first = Snapshot("a", 10);
  EXPECT_EQ(rendered.Body("v1", first, render), "a:10");
  EXPECT_EQ(rendered.Body("v1", first, render), "a:10");
  EXPECT_EQ(renders, 1);
  EXPECT_EQ(rendered.Body("v2", first, render), "a:10");
  EXPECT_EQ(renders, 2) << "each view renders on its own";

  auto changed = Snapshot("a", 55);
  EXPECT_EQ(rendered.Body("v1", changed, render), "a:55");
  EXPECT_EQ(renders, 3);
  first.reset();
  auto same_values = Snapshot("a", 55);
  EXPECT_EQ(rendered.Body("v1", same_values, render), "a:55");
  EXPECT_EQ(renders, 4) << "another snapshot is rendered anew even where its values match";
}

TEST(RenderedTasks, StaysWithinItsCapacity) {
  RenderedTasks rendered(4);
  int renders = 0;
  auto render = [&](const core::Task& t) {
    ++renders;
    return t.id;
  };
  std::vector<tasks::TaskSnapshot> live;
  for (int i = 0; i < 4; ++i) {
    live.push_back(Snapshot("t" + std::to_string(i), 0));
    rendered.Body("v", live.back(), render);
  }
  live.erase(live.begin());  // t0's snapshot is gone: its entry is the one to drop
  auto extra = Snapshot("t9", 0);
  rendered.Body("v", extra, render);
  const int before = renders;
  for (const auto& s : live) EXPECT_EQ(rendered.Body("v", s, render), s->id);
  EXPECT_EQ(rendered.Body("v", extra, render), "t9");
  EXPECT_EQ(renders, before) << "live entries survived the sweep of dead ones";
}

}  // namespace
}  // namespace wanserve::api
