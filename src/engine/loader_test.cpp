// The engine reached the way the server reaches it: through the module loaded on first use.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/engine.h"
#include "testing/temp_dir.h"

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

// The edit set takes its weights from the sibling set by relative path, pinned by SHA-256.
TEST(EngineLoaderTest, ASetRunsOnItsSiblingsFilesAndIsRefusedWhenOneOfThemChanged) {
  namespace fs = std::filesystem;
  ::setenv("WANSERVE_ENGINE_LIBRARY", WANSERVE_ENGINE_MODULE, 1);
  const fs::path edit = fs::path(WANSERVE_GOLDEN_DIR).parent_path() / "wan-edit";
  GoldenOptions options;
  options.only = {"wan22_ti2v_i2v_pipeline"};
  auto checks = RunGoldenSet(edit.string(), options, [](const GoldenCheck&) {});
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_FALSE(checks->empty());
  for (const auto& c : *checks) EXPECT_TRUE(c.passed) << c.tensor << " " << c.message;

  // The same layout in a temporary folder, with one byte of a sibling's weights changed.
  testing::TempDir dir;
  fs::create_directories(dir.path() / "wan-edit");
  fs::create_directories(dir.path() / "wan");
  fs::copy_file(edit / "manifest.json", dir.path() / "wan-edit" / "manifest.json");
  for (const char* name : {"umt5_encoder.safetensors", "wan22_ti2v_dit.safetensors", "wan22_vae.safetensors",
                           "wan21_dit.safetensors", "wan21_vae.safetensors"}) {
    fs::copy_file(fs::path(WANSERVE_GOLDEN_DIR) / name, dir.path() / "wan" / name);
  }
  {
    std::fstream f(dir.path() / "wan" / "wan22_vae.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x7f');
  }
  auto refused = RunGoldenSet((dir.path() / "wan-edit").string(), options, [](const GoldenCheck&) {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(refused.error().message.find("wan22_vae.safetensors"), std::string::npos) << refused.error().message;
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
