#include <gtest/gtest.h>

#include "providers/provider.h"

namespace wanserve::providers {
namespace {

core::GenerationRequest VideoRequest() {
  core::GenerationRequest r;
  r.kind = core::RequestKind::kTextToVideo;
  r.model = "wan2.7-t2v";
  r.prompt = "a red fox";
  r.width = 64;
  r.height = 48;
  r.duration_s = 2;
  r.fps = 8;
  r.seed = 7;
  return r;
}

TEST(TestPattern, VideoHasTheRequestedSizeFramesAndAudio) {
  auto p = MakeTestPatternProvider({.enabled = true, .steps = 2, .step_delay_ms = 0});
  std::vector<int> progress;
  auto media = p->Run(VideoRequest(), {}, [&](int v) { progress.push_back(v); }, [] { return false; });
  ASSERT_TRUE(media.ok()) << media.error().message;
  ASSERT_EQ(media->videos.size(), 1u);
  const auto& clip = media->videos[0];
  EXPECT_EQ(clip.frames.size(), 16u);
  EXPECT_EQ(clip.frames[0].width, 64);
  EXPECT_EQ(clip.frames[0].height, 48);
  EXPECT_EQ(clip.audio.size(), 2u * 48000);
  EXPECT_EQ(progress, (std::vector<int>{50, 100}));
  EXPECT_NE(clip.frames[0].rgb, clip.frames[15].rgb) << "the pattern must move";
}

TEST(TestPattern, SameSeedSameOutputDifferentSeedDifferentOutput) {
  auto p = MakeTestPatternProvider({.enabled = true, .steps = 1, .step_delay_ms = 0});
  auto r = VideoRequest();
  r.kind = core::RequestKind::kTextToImage;
  r.count = 2;
  auto a = p->Run(r, {}, [](int) {}, [] { return false; });
  auto b = p->Run(r, {}, [](int) {}, [] { return false; });
  r.seed = 8;
  auto c = p->Run(r, {}, [](int) {}, [] { return false; });
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a->images.size(), 2u);
  EXPECT_EQ(a->images[0].rgb, b->images[0].rgb);
  EXPECT_NE(a->images[0].rgb, c->images[0].rgb);
  EXPECT_NE(a->images[0].rgb, a->images[1].rgb);
}

TEST(TestPattern, CancelStopsBetweenSteps) {
  auto p = MakeTestPatternProvider({.enabled = true, .steps = 10, .step_delay_ms = 0});
  int calls = 0;
  auto media = p->Run(VideoRequest(), {}, [](int) {}, [&] { return ++calls > 3; });
  ASSERT_FALSE(media.ok());
  EXPECT_EQ(media.error().code, ErrorCode::kCanceled);
}

}  // namespace
}  // namespace wanserve::providers
