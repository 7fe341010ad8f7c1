#include "core/request.h"

#include <gtest/gtest.h>

#include "core/task.h"

namespace wanserve::core {

TEST(GenerationRequest, RoundTripsThroughTheStoreEncoding) {
  GenerationRequest r;
  r.kind = RequestKind::kVideoEdit;
  r.model = std::string(kModelVideoEdit);
  r.prompt = "make it \xE7\x8C\xAB";
  r.image_urls = {"https://a/b.png"};
  r.video_url = "https://a/v.mp4";
  r.width = 1280;
  r.height = 720;
  r.duration_s = 5;
  r.seed = 2147483647;
  r.prompt_extend = false;
  r.audio_setting = "origin";
  auto decoded = DecodeRequest(EncodeRequest(r));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, r);
}

TEST(GenerationRequest, ImageAndReferenceToVideoFieldsRoundTripAndOldRowsStillRead) {
  GenerationRequest r;
  r.kind = RequestKind::kReferenceToVideo;
  r.model = std::string(kModelReferenceToVideo);
  r.image_urls = {"https://a/1.png", "https://a/2.png"};
  r.reference_video_urls = {"https://a/v.mp4"};
  r.first_frame_url = "https://a/first.png";
  r.voice_bindings = {{"video1", "https://a/voice.mp3"}};
  auto decoded = DecodeRequest(EncodeRequest(r));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, r);

  GenerationRequest i2v;
  i2v.kind = RequestKind::kImageToVideo;
  i2v.model = std::string(kModelImageToVideo);
  i2v.generation_mode = std::string(kModeFirstLastFrame);
  i2v.first_frame_url = "https://a/1.png";
  i2v.last_frame_url = "https://a/2.png";
  EXPECT_EQ(*DecodeRequest(EncodeRequest(i2v)), i2v);

  // A row written before these fields existed.
  GenerationRequest old;
  old.kind = RequestKind::kTextToVideo;
  std::string text = EncodeRequest(old);
  EXPECT_EQ(text.find("first_frame_url"), std::string::npos) << "unset fields are not written";
  EXPECT_EQ(*DecodeRequest(text), old);
}

TEST(GenerationRequest, CorruptTextIsAnError) {
  EXPECT_FALSE(DecodeRequest("{").ok());
  EXPECT_FALSE(DecodeRequest(R"({"kind":"nope"})").ok());
}

TEST(Outputs, RoundTrip) {
  std::vector<Output> outs = {{"b1", "video", "video/mp4", "a.mp4", 1280, 720, 5.0, 80, 1234}};
  auto decoded = DecodeOutputs(EncodeOutputs(outs));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, outs);
}

}  // namespace wanserve::core
