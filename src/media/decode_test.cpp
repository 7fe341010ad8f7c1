// Decoding for generation: frames land on the instants of the asked frame rate, the first
// seconds only when asked, scaled to cover a box, with the soundtrack; pictures come upright.
#include "media/decode.h"

#include <gtest/gtest.h>
#include <vips/vips.h>

#include <cmath>

#include "media/encode.h"
#include "media/vips_init.h"
#include "testing/temp_dir.h"

namespace wanserve::media {
namespace {

core::RgbImage Flat(int w, int h, uint8_t value) {
  return core::RgbImage{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3, value)};
}

int Mean(const core::RgbImage& image) {
  int64_t sum = 0;
  for (uint8_t v : image.rgb) sum += v;
  return static_cast<int>(sum / static_cast<int64_t>(image.rgb.size()));
}

// A clip of `frames` flat frames at `fps`, frame i of grey 20 * i, with a tone.
std::string Steps(const testing::TempDir& dir, int frames, int fps) {
  core::VideoClip clip;
  clip.fps = fps;
  for (int i = 0; i < frames; ++i) clip.frames.push_back(Flat(64, 48, static_cast<uint8_t>(20 * i)));
  const size_t samples = static_cast<size_t>(frames) * clip.sample_rate / fps;
  for (size_t i = 0; i < samples; ++i) clip.audio.push_back(0.3f * std::sin(static_cast<float>(i) * 0.05f));
  const std::string path = (dir.path() / "steps.mp4").string();
  EXPECT_TRUE(EncodeMp4(clip, path).ok());
  return path;
}

TEST(DecodeVideo, EachInstantOfTheAskedRateTakesTheFrameOnScreenThen) {
  testing::TempDir dir;
  const std::string path = Steps(dir, 10, 5);  // 2 s, a new grey every 0.2 s
  auto twice = DecodeVideo(path, {.fps = 10, .max_seconds = 0, .cover_width = 0, .cover_height = 0, .audio = true});
  ASSERT_TRUE(twice.ok()) << twice.error().message;
  ASSERT_EQ(twice->frames.size(), 20u) << "2 s at 10 fps";
  EXPECT_EQ(twice->fps, 10);
  for (size_t i = 0; i < twice->frames.size(); ++i) {
    EXPECT_NEAR(Mean(twice->frames[i]), 20 * static_cast<int>(i / 2), 3) << "instant " << i;
  }
  EXPECT_NEAR(static_cast<double>(twice->audio.size()) / twice->sample_rate, 2.0, 0.05);

  auto slower = DecodeVideo(path, {.fps = 2, .max_seconds = 0, .cover_width = 0, .cover_height = 0, .audio = false});
  ASSERT_TRUE(slower.ok());
  ASSERT_EQ(slower->frames.size(), 4u);
  EXPECT_NEAR(Mean(slower->frames[1]), 40, 3) << "0.5 s shows the frame from 0.4 s";
  EXPECT_TRUE(slower->audio.empty()) << "audio only when asked";
}

TEST(DecodeVideo, TheFirstSecondsOnlyScaledToCoverTheBox) {
  testing::TempDir dir;
  const std::string path = Steps(dir, 10, 5);
  auto first = DecodeVideo(path, {.fps = 10, .max_seconds = 1, .cover_width = 160, .cover_height = 160, .audio = true});
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_EQ(first->frames.size(), 10u);
  EXPECT_EQ(first->frames[0].width, 213) << "64x48 scaled to cover 160x160 keeps 4:3";
  EXPECT_EQ(first->frames[0].height, 160);
  EXPECT_NEAR(static_cast<double>(first->audio.size()) / first->sample_rate, 1.0, 0.03);
  EXPECT_FALSE(DecodeVideo((dir.path() / "none.mp4").string(), {}).ok());
}

TEST(DecodeImage, PicturesComeUprightInRgbWithoutAlpha) {
  testing::TempDir dir;
  EnsureVipsStarted();
  // 40x20 with alpha, stored with EXIF orientation 6 (shown rotated a quarter turn).
  std::vector<uint8_t> rgba(40 * 20 * 4, 0);
  for (size_t i = 0; i < rgba.size(); i += 4) rgba[i] = 250, rgba[i + 3] = 128;
  VipsImage* img = vips_image_new_from_memory(rgba.data(), rgba.size(), 40, 20, 4, VIPS_FORMAT_UCHAR);
  ASSERT_NE(img, nullptr);
  const std::string png = (dir.path() / "a.png").string();
  ASSERT_EQ(vips_pngsave(img, png.c_str(), nullptr), 0);
  VipsImage* copy = nullptr;
  ASSERT_EQ(vips_copy(img, &copy, nullptr), 0);
  vips_image_set_int(copy, "orientation", 6);
  const std::string jpeg = (dir.path() / "a.jpg").string();
  ASSERT_EQ(vips_jpegsave(copy, jpeg.c_str(), nullptr), 0);
  g_object_unref(copy);
  g_object_unref(img);

  auto decoded = DecodeImage(png);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->width, 40);
  EXPECT_EQ(decoded->height, 20);
  ASSERT_EQ(decoded->rgb.size(), 40u * 20 * 3);
  EXPECT_EQ(decoded->rgb[0], 250) << "alpha dropped, colour kept";
  auto upright = DecodeImage(jpeg);
  ASSERT_TRUE(upright.ok()) << upright.error().message;
  EXPECT_EQ(upright->width, 20);
  EXPECT_EQ(upright->height, 40);
  EXPECT_FALSE(DecodeImage((dir.path() / "none.png").string()).ok());
}

}  // namespace
}  // namespace wanserve::media
