// The engine reached the way the server reaches it: through the module loaded on first use.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/engine.h"

namespace wanserve::engine {
namespace {

TEST(EngineLoaderTest, RunsTheGoldenSetThroughTheModule) {
  ::setenv("WANSERVE_ENGINE_LIBRARY", WANSERVE_ENGINE_MODULE, 1);
  auto threads = SetThreads(1);
  ASSERT_TRUE(threads.ok()) << threads.error().message;
  EXPECT_EQ(*threads, 1);
  GoldenOptions options;
  options.only = {"wan21_dit_single"};
  int reported = 0;
  auto checks = RunGoldenSet(WANSERVE_GOLDEN_DIR, options, [&](const GoldenCheck&) { ++reported; });
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_EQ(reported, 1);
  EXPECT_TRUE((*checks)[0].passed) << (*checks)[0].message;
}

// In a freshly executed child, since a module once loaded stays loaded.
TEST(EngineLoaderTest, MissingModuleIsAClearErrorNotACrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ::setenv("WANSERVE_ENGINE_LIBRARY", "/nonexistent/libwanserve_engine.so", 1);
        auto threads = SetThreads(0);
        const bool clear = !threads.ok() && threads.error().code == ErrorCode::kUnavailable &&
                           threads.error().message.find("/nonexistent/libwanserve_engine.so") !=
                               std::string::npos;
        std::exit(clear ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace wanserve::engine
