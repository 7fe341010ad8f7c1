// Picture preparation (PIL's resize is checked to the bit against the golden set's own; these
// are its properties and the size rules).
#include "engine/image_ops.h"

#include <gtest/gtest.h>

namespace wanserve::engine {
namespace {

core::RgbImage Gradient(int width, int height) {
  core::RgbImage image{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &image.rgb[(static_cast<size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / std::max(1, width - 1));
      p[1] = static_cast<uint8_t>(y * 255 / std::max(1, height - 1));
      p[2] = 77;
    }
  }
  return image;
}

TEST(ImageOps, LanczosKeepsAFlatPictureFlatAndSkipsAnAxisThatKeepsItsSize) {
  core::RgbImage flat{50, 30, std::vector<uint8_t>(50 * 30 * 3, 200)};
  const auto smaller = LanczosResize(flat, 17, 11);
  EXPECT_EQ(smaller.width, 17);
  EXPECT_EQ(smaller.height, 11);
  for (uint8_t v : smaller.rgb) ASSERT_EQ(v, 200);
  const auto larger = LanczosResize(flat, 120, 77);
  for (uint8_t v : larger.rgb) ASSERT_EQ(v, 200);
  const auto gradient = Gradient(40, 20);
  EXPECT_EQ(LanczosResize(gradient, 40, 20).rgb, gradient.rgb) << "no pass when nothing changes";
  const auto wider = LanczosResize(gradient, 80, 20);
  for (int x = 0; x < 80; ++x) {
    EXPECT_EQ(wider.rgb[(static_cast<size_t>(19) * 80 + x) * 3 + 1], 255) << "rows untouched by a horizontal-only resize";
  }
}

TEST(ImageOps, BestOutputSizeFollowsTheOfficialRounding) {
  // The golden set's case: 200x123 at 6144 pixels, 32-pixel steps.
  EXPECT_EQ(BestOutputSize(200, 123, 32, 32, 6144), std::make_pair(96, 64));
  // A 16:9 photo on TI2V-5B's 720p area: rounding the width first keeps the ratio closer
  // (1.773 against 1.818 for 1280x704), so the official pipeline makes 1248x704.
  EXPECT_EQ(BestOutputSize(1920, 1080, 32, 32, 1280.0 * 704), std::make_pair(1248, 704));
  EXPECT_EQ(BestOutputSize(1080, 1920, 32, 32, 1280.0 * 704), std::make_pair(704, 1248));
  const auto [w, h] = BestOutputSize(1000, 1000, 32, 32, 1280.0 * 704);
  EXPECT_EQ(w % 32, 0);
  EXPECT_EQ(h % 32, 0);
  EXPECT_LE(w * h, 1280 * 704);
  EXPECT_EQ(std::make_pair(w, h), std::make_pair(960, 928)) << "a square picture is not made square: the official rule";
}

TEST(ImageOps, CoverAndCropFillsTheFrameFromTheCentre) {
  // A picture wider than the frame: the sides are cut, the rows keep their full range.
  const auto out = CoverAndCrop(Gradient(400, 100), 100, 100);
  ASSERT_EQ(out.width, 100);
  ASSERT_EQ(out.height, 100);
  const int left_red = out.rgb[(50 * 100 + 0) * 3];
  const int right_red = out.rgb[(50 * 100 + 99) * 3];
  EXPECT_GT(left_red, 90) << "the left quarter was cut";
  EXPECT_LT(right_red, 165) << "the right quarter was cut";
  EXPECT_LT(out.rgb[(0 * 100 + 50) * 3 + 1], 5);
  EXPECT_GT(out.rgb[(99 * 100 + 50) * 3 + 1], 250);
}

}  // namespace
}  // namespace wanserve::engine
