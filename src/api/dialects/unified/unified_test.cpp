#include <gtest/gtest.h>

#include "api/dialects/unified/internal.h"

namespace wanserve::api::dialects::unified {
namespace {

json J(const char* text) { return json::parse(text); }

TEST(UnifiedParse, ImagePresetsObjectSizesAndModes) {
  auto p = ParseImage(J(R"({"model":"wan-2.7-image","prompt":"x"})"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->request.width, 1024);  // square_hd default
  EXPECT_EQ(p->model_alias, "wan-2.7-image");
  auto o = ParseImage(J(R"({"model":"wan-2.7-image-pro","prompt":"x","size":{"width":1280,"height":720},"n":5})"));
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->request.model, "wan2.7-image-pro");
  EXPECT_EQ(o->request.width, 1280);
  EXPECT_EQ(o->request.count, 5);
  EXPECT_EQ(ParseImage(J(R"({"model":"wan-2.7-image","prompt":"x","size":{"width":100,"height":720}})")).error().field,
            "size.width");
  EXPECT_EQ(ParseImage(J(R"({"model":"wan-2.7-image","prompt":"x","size":"giant"})")).error().field, "size");
  EXPECT_EQ(ParseImage(J(R"({"model":"wan-2.7-image","prompt":"x","image_urls":["https://a/b"],"n":5})")).error().field,
            "n");
  EXPECT_EQ(ParseImage(J(R"({"model":"wan-2.7-image","prompt":"x","n":6})")).error().field, "n");
}

TEST(UnifiedParse, UnknownModelIsUnsupportedModel) {
  auto e = ParseImage(J(R"({"model":"gpt-image-1","prompt":"x"})"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code, ErrorCode::kUnsupportedModel);
  EXPECT_EQ(RenderError(e.error()).status, 404);
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan-2.7-image","prompt":"x"})")).error().code, ErrorCode::kUnsupportedModel);
}

TEST(UnifiedParse, TextToVideoDefaultsTableAndTruncation) {
  auto p = ParseVideo(J(R"({"model":"wan2.7-text-to-video","prompt":"x"})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.resolution_tier, "720p");
  EXPECT_EQ(p->request.aspect_ratio, "16:9");
  EXPECT_EQ(p->request.width, 1280);
  EXPECT_EQ(p->request.height, 720);
  EXPECT_EQ(p->request.duration_s, 5);
  EXPECT_EQ(p->request.prompt_extend, false);
  auto big = ParseVideo(json{{"model", "wan2.7-text-to-video"}, {"prompt", std::string(6000, 'p')},
                             {"negative_prompt", std::string(600, 'n')}, {"quality", "1080p"}, {"aspect_ratio", "3:4"}});
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->request.prompt.size(), 5000u);
  EXPECT_EQ(big->request.negative_prompt.size(), 500u);
  EXPECT_EQ(big->request.width, 1248);
  EXPECT_EQ(big->request.height, 1648);
  for (int d : {2, 15}) EXPECT_TRUE(ParseVideo(json{{"model", "wan2.7-text-to-video"}, {"prompt", "x"}, {"duration", d}}).ok());
  for (int d : {1, 16}) {
    EXPECT_EQ(ParseVideo(json{{"model", "wan2.7-text-to-video"}, {"prompt", "x"}, {"duration", d}}).error().field, "duration");
  }
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan2.7-text-to-video","prompt":"x","seed":0})")).error().field, "seed");
  EXPECT_TRUE(ParseVideo(J(R"({"model":"wan2.7-text-to-video","prompt":"x","seed":1})")).ok());
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan2.7-text-to-video","prompt":"x","audio_urls":["https://a/1.mp3","https://a/2.mp3"]})"))
                .error().field, "audio_urls");
}

TEST(UnifiedParse, CallbackUrlMustBeHttpsAndShort) {
  EXPECT_TRUE(ParseVideo(J(R"({"model":"wan2.7-text-to-video","prompt":"x","callback_url":"https://h.example/cb"})")).ok());
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan2.7-text-to-video","prompt":"x","callback_url":"http://h.example/cb"})")).error().field,
            "callback_url");
  json long_cb = {{"model", "wan2.7-text-to-video"}, {"prompt", "x"},
                  {"callback_url", "https://h.example/" + std::string(2040, 'a')}};
  EXPECT_EQ(ParseVideo(long_cb).error().field, "callback_url");
}

TEST(UnifiedParse, VideoEditNeedsExactlyOneVideo) {
  auto p = ParseVideo(J(R"({"model":"wan2.7-video-edit","prompt":"x","video_urls":["https://a/v.mp4"],"keep_original_sound":true})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.kind, core::RequestKind::kVideoEdit);
  EXPECT_EQ(p->request.audio_setting, "origin");
  EXPECT_EQ(p->request.duration_s, 0);
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan2.7-video-edit","prompt":"x"})")).error().field, "video_urls");
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan2.7-video-edit","video_urls":["https://a/1","https://a/2"]})")).error().field,
            "video_urls");
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan2.7-video-edit","video_urls":["https://a/1"],"duration":1})")).error().field,
            "duration");
}

TEST(UnifiedIds, FormatAndValidation) {
  const auto id = NewId(1757169743);
  EXPECT_EQ(id.rfind("task-unified-1757169743-", 0), 0u);
  EXPECT_EQ(id.size(), std::string("task-unified-1757169743-").size() + 8);
  EXPECT_TRUE(IsValidId(id));
  EXPECT_TRUE(IsValidId("task-unified-1756817821-4x3rx6ny"));
  for (const char* bad : {"task-unified-", "task-unified-123-ABCDEFGH", "task-unified-12a-abcdefgh",
                          "gen_123", "task-unified-123-abcdefg", "task-unified-123-abcdefghi"}) {
    EXPECT_FALSE(IsValidId(bad)) << bad;
  }
}

TEST(UnifiedRender, ErrorEnvelope) {
  auto r = RenderError(MakeError(ErrorCode::kInvalidInput, "duration: bad", "duration"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body),
            J(R"({"error":{"code":"invalid_request","message":"duration: bad","type":"invalid_request_error","param":"duration"}})"));
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kInvalidId, "x")).status, 400);
  EXPECT_EQ(json::parse(RenderError(MakeError(ErrorCode::kNotFound, "x")).body)["error"]["code"], "task_not_found");
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kUnauthorized, "x")).status, 401);
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kPayloadTooLarge, "x")).status, 413);
}

}  // namespace
}  // namespace wanserve::api::dialects::unified
