#include "billing/price_table.h"

#include <gtest/gtest.h>

namespace wanserve::billing {
namespace {

core::GenerationRequest Request(core::RequestKind kind, const std::string& model, const std::string& tier,
                                double duration, int count) {
  core::GenerationRequest r;
  r.kind = kind;
  r.model = model;
  r.resolution_tier = tier;
  r.duration_s = duration;
  r.count = count;
  return r;
}

TEST(PriceTable, DefaultsMatchTheSeedExamples) {
  PriceTable t;
  // Seed: one wan-v2.7 image -> usage.total 20.
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kTextToImage, "wan2.7-image", "1024x1024", 0, 1)), 20);
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kImageEdit, "wan2.7-image-pro", "2K", 0, 3)), 120);
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kTextToImage, "wan2.7-image-pro", "4K", 0, 1)), 80);
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kTextToVideo, "wan2.7-t2v", "720p", 5, 1)), 20);
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kTextToVideo, "wan2.7-t2v", "1080p", 15, 1)), 90);
  // Video edit: input + output seconds; duration 0 is held at the 10 s maximum both ways.
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kVideoEdit, "wan2.7-videoedit", "1080p", 5, 1)), 30);
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kVideoEdit, "wan2.7-videoedit", "1080p", 0, 2)), 80);
}

TEST(PriceTable, VideoEditIsPricedOnTheProbedInput) {
  PriceTable t;
  // A 4.2 s input bills 5 s; a "keep duration" edit had its output set to the input's length.
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kVideoEdit, "wan2.7-videoedit", "720p", 4, 1), 4.2), 18);
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kVideoEdit, "wan2.7-videoedit", "720p", 3, 1), 4.2), 16);
  // Never above the price held before the probe.
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kVideoEdit, "wan2.7-videoedit", "720p", 10, 1), 12.5), 40);
}

TEST(PriceTable, ImageToVideoBillsOutputSecondsAndReferenceVideosAddTheirInput) {
  PriceTable t;
  EXPECT_EQ(PriceFor(t, Request(core::RequestKind::kImageToVideo, "wan2.7-i2v", "720p", 5, 1)), 20)
      << "the text-to-video rate";
  auto r2v = Request(core::RequestKind::kReferenceToVideo, "wan2.7-r2v", "720p", 5, 1);
  EXPECT_EQ(PriceFor(t, r2v), 20) << "reference images add nothing";
  r2v.reference_video_urls = {"https://a/1.mp4", "https://a/2.mp4"};
  EXPECT_EQ(PriceFor(t, r2v), (5 + 2 * 30) * 4) << "held at the longest two references may be";
  EXPECT_EQ(PriceFor(t, r2v, 7.5), (5 + 8) * 4) << "charged on their probed length";
}

}  // namespace
}  // namespace wanserve::billing
