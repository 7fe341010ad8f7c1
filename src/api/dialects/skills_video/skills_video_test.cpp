#include <gtest/gtest.h>

#include "api/dialects/skills_video/internal.h"

namespace wanserve::api::dialects::skills_video {
namespace {

json J(const char* text) { return json::parse(text); }

Error ErrorOf(Endpoint e, const char* body) {
  auto r = Parse(e, J(body));
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? Error{} : r.error();
}

TEST(SkillsVideoParse, ImageDefaultsAndEchoMatchTheSeed) {
  auto p = Parse(Endpoint::kImage, J(R"({"prompt":"a cat"})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->echo, J(R"({"prompt":"a cat","aspect_ratio":"1:1","resolution":"1024x1024","n":1})"));
  EXPECT_EQ(p->request.kind, core::RequestKind::kTextToImage);
  EXPECT_EQ(p->request.model, "wan2.7-image");
  EXPECT_EQ(p->request.width, 1024);
  EXPECT_EQ(p->request.count, 1);
  EXPECT_FALSE(p->request.seed.has_value());
}

TEST(SkillsVideoParse, ImageUrlsSwitchToEditModeWithItsOwnLimits) {
  auto p = Parse(Endpoint::kImage, J(R"({"prompt":"x","image_urls":["https://a/1.png"],"num_images":4})"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->request.kind, core::RequestKind::kImageEdit);
  EXPECT_EQ(p->request.count, 4);
  auto e = ErrorOf(Endpoint::kImage, R"({"prompt":"x","image_urls":["https://a/1.png"],"num_images":5})");
  EXPECT_EQ(e.field, "num_images");
  EXPECT_NE(e.message.find("1-4"), std::string::npos);
  EXPECT_TRUE(Parse(Endpoint::kImage, J(R"({"prompt":"x","num_images":5})")).ok());
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","num_images":6})").field, "num_images");
  EXPECT_EQ(ErrorOf(Endpoint::kImage,
                    R"({"prompt":"x","image_urls":["https://a/1","https://a/2","https://a/3","https://a/4","https://a/5"]})")
                .field,
            "image_urls");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","image_urls":["ftp://a/1.png"]})").field, "image_urls[0]");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","image_urls":["not a url"]})").field, "image_urls[0]");
}

TEST(SkillsVideoParse, ImageFieldRangesAtTheirEdges) {
  const std::string p2000(2000, 'a');
  EXPECT_TRUE(Parse(Endpoint::kImage, json{{"prompt", p2000}}).ok());
  EXPECT_EQ(Parse(Endpoint::kImage, json{{"prompt", p2000 + "a"}}).error().field, "prompt");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":""})").field, "prompt");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({})").field, "prompt");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":5})").field, "prompt");
  EXPECT_TRUE(Parse(Endpoint::kImage, J(R"({"prompt":"x","seed":0})")).ok());
  EXPECT_TRUE(Parse(Endpoint::kImage, J(R"({"prompt":"x","seed":2147483647})")).ok());
  EXPECT_TRUE(Parse(Endpoint::kImage, J(R"({"prompt":"x","seed":null})")).ok());
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","seed":2147483648})").field, "seed");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","seed":-1})").field, "seed");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","seed":1.5})").field, "seed");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","seed":1e300})").field, "seed");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","seed":"7"})").field, "seed");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","n":5})").field, "n");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","n":0})").field, "n");
  EXPECT_EQ(ErrorOf(Endpoint::kImage, R"({"prompt":"x","aspect_ratio":"2:1"})").field, "aspect_ratio");
  EXPECT_EQ(Parse(Endpoint::kImage, json{{"prompt", "x"}, {"negative_prompt", std::string(501, 'n')}}).error().field,
            "negative_prompt");
  auto wide = Parse(Endpoint::kImage, J(R"({"prompt":"x","aspect_ratio":"16:9","n":3,"unknown_field":1})"));
  ASSERT_TRUE(wide.ok()) << "unknown fields are ignored";
  EXPECT_EQ(wide->echo["resolution"], "1024x576");
  EXPECT_EQ(wide->request.count, 3);
}

TEST(SkillsVideoParse, PromptLimitCountsCharactersNotBytes) {
  std::string cats;
  for (int i = 0; i < 2000; ++i) cats += "\xE7\x8C\xAB";
  EXPECT_TRUE(Parse(Endpoint::kImage, json{{"prompt", cats}}).ok());
}

TEST(SkillsVideoParse, ProAddsImageSizeAndEditModeDefaults) {
  auto p = Parse(Endpoint::kImagePro, J(R"({"prompt":"x","image_size":"landscape_16_9"})"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->request.model, "wan2.7-image-pro");
  EXPECT_EQ(p->request.width, 1024);
  EXPECT_EQ(p->request.height, 576);
  EXPECT_FALSE(p->request.prompt_extend.has_value()) << "expansion exists only in edit mode";
  auto edit = Parse(Endpoint::kImagePro, J(R"({"prompt":"x","image_urls":["https://a/b.png"]})"));
  ASSERT_TRUE(edit.ok());
  EXPECT_EQ(edit->request.prompt_extend, true);
  EXPECT_EQ(ErrorOf(Endpoint::kImagePro, R"({"prompt":"x","image_size":"huge"})").field, "image_size");
  EXPECT_EQ(ErrorOf(Endpoint::kImagePro, R"({"prompt":"x","max_images":6})").field, "max_images");
}

TEST(SkillsVideoParse, EditVideoRulesAndEcho) {
  auto p = Parse(Endpoint::kEditVideo, J(R"({"prompt":"neon","video_url":"https://a/v.mp4","aspect_ratio":"16:9"})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.kind, core::RequestKind::kVideoEdit);
  EXPECT_EQ(p->request.resolution_tier, "1080p");
  EXPECT_EQ(p->request.width, 1920);
  EXPECT_EQ(p->request.audio_setting, "auto");
  EXPECT_EQ(p->echo["duration"], 0);
  EXPECT_EQ(p->echo["aspect_ratio"], "16:9");
  EXPECT_EQ(p->echo["n"], 1);
  for (int d : {0, 2, 10}) {
    EXPECT_TRUE(Parse(Endpoint::kEditVideo, json{{"prompt", "x"}, {"video_url", "https://a/v"}, {"duration", d}}).ok()) << d;
  }
  for (int d : {1, 11, -1}) {
    EXPECT_EQ(Parse(Endpoint::kEditVideo, json{{"prompt", "x"}, {"video_url", "https://a/v"}, {"duration", d}}).error().field,
              "duration") << d;
  }
  EXPECT_EQ(ErrorOf(Endpoint::kEditVideo, R"({"prompt":"x"})").field, "video_url");
  EXPECT_EQ(ErrorOf(Endpoint::kEditVideo, R"({"prompt":"x","video_url":"https://a/v","resolution":"4k"})").field, "resolution");
  EXPECT_EQ(ErrorOf(Endpoint::kEditVideo, R"({"prompt":"x","video_url":"https://a/v","audio_setting":"mute"})").field, "audio_setting");
  EXPECT_EQ(ErrorOf(Endpoint::kEditVideo, R"({"prompt":"x","video_url":"https://a/v","n":5})").field, "n");
}

TEST(SkillsVideoRender, ErrorShapeAndStatus) {
  auto r = RenderError(MakeError(ErrorCode::kInvalidInput, "n: bad", "n"), Family(false));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body),
            J(R"({"error":"INVALID_INPUT","code":"IMAGE_GENERATION_INVALID_INPUT","message":"n: bad"})"));
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kInsufficientCredits, "x"), Family(true)).status, 402);
  EXPECT_EQ(json::parse(RenderError(MakeError(ErrorCode::kUnsupportedModel, "x"), Family(true)).body)["code"],
            "VIDEO_GENERATION_UNSUPPORTED_MODEL");
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kUnavailable, "x"), Family(true)).status, 503);
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kTimeout, "x"), Family(true)).status, 504);
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kContentRejected, "x"), Family(true)).status, 422);
}

}  // namespace
}  // namespace wanserve::api::dialects::skills_video
