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

// One row per rule of API-DIALECTS-2 §2 and §6: a body and the field it is refused on ("" when
// it is accepted).
struct Rule {
  const char* body;
  const char* refused_field;
};

TEST(UnifiedParse, EveryRuleOfImageAndReferenceToVideoAndTheirAliases) {
  const Rule rules[] = {
      {R"({"model":"wan2.7-image-to-video","image_start":"https://a/1.png"})", ""},
      {R"({"model":"wan2.7-i2v","image_start":"https://a/1.png","image_end":"https://a/2.png","quality":"1080P"})", ""},
      {R"({"model":"wan2.7-image-to-video","video_urls":["https://a/c.mp4"],"image_end":"https://a/2.png"})", ""},
      {R"({"model":"wan2.7-image-to-video","image_start":"https://a/1.png","audio_url":"https://a/a.mp3"})", ""},
      {R"({"model":"wan2.7-image-to-video"})", "image_start"},
      {R"({"model":"wan2.7-image-to-video","generation_mode":"first_frame","image_start":"https://a/1.png",
          "image_end":"https://a/2.png"})", "image_end"},
      {R"({"model":"wan2.7-image-to-video","generation_mode":"first_last_frame","image_start":"https://a/1.png"})",
       "image_end"},
      {R"({"model":"wan2.7-image-to-video","generation_mode":"video_continuation","image_start":"https://a/1.png"})",
       "video_urls"},
      {R"({"model":"wan2.7-image-to-video","video_urls":["https://a/c.mp4"],"image_start":"https://a/1.png"})",
       "image_start"},
      {R"({"model":"wan2.7-image-to-video","video_urls":["https://a/c.mp4"],"audio_urls":["https://a/a.mp3"]})",
       "audio_urls"},
      {R"({"model":"wan2.7-image-to-video","image_start":"https://a/1.png","video_urls":["https://a/1","https://a/2"]})",
       "video_urls"},
      {R"({"model":"wan2.7-image-to-video","image_start":"https://a/1.png","generation_mode":"loop"})", "generation_mode"},
      {R"({"model":"wan2.7-image-to-video","image_start":"https://a/1.png","duration":16})", "duration"},
      {R"({"model":"wan2.7-image-to-video","image_start":"https://a/1.png","seed":0})", "seed"},
      {R"({"model":"wan2.7-image-to-video","image_start":"https://a/1.png","audio_url":"https://a/1.mp3",
          "audio_urls":["https://a/2.mp3"]})", "audio_urls"},
      {R"({"model":"wan2.7-reference-video","prompt":"Image 1 waves","image_urls":["https://a/1.png"]})", ""},
      {R"({"model":"wan2.7-r2v","prompt":"x","image_urls":["https://a/1.png"],"video_urls":["https://a/v.mp4"],
          "audio_urls":["https://a/v1.mp3","https://a/i1.mp3"]})", ""},
      {R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],
          "model_params":{"voice_bindings":{"image1":"https://a/v.mp3"}}})", ""},
      {R"({"model":"wan2.7-reference-video","prompt":"x"})", "image_urls"},
      {R"({"model":"wan2.7-reference-video","image_urls":["https://a/1.png"]})", "prompt"},
      {R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1","https://a/2","https://a/3"],
          "video_urls":["https://a/4","https://a/5","https://a/6"]})", "image_urls"},
      {R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],
          "model_params":{"voice_bindings":{"picture1":"https://a/v.mp3"}}})", "model_params.voice_bindings"},
      {R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],
          "model_params":{"voice_bindings":{"image2":"https://a/v.mp3"}}})", "model_params.voice_bindings"},
      {R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],
          "model_params":{"voice_bindings":{"image1":""}}})", "model_params.voice_bindings"},
      {R"({"model":"wan2.7-reference-video","prompt":"x","video_urls":["https://a/v.mp4"],"duration":11})", "duration"},
      {R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],"duration":15})", ""},
      {R"({"model":"wan2.7-videoedit","video_urls":["https://a/v.mp4"],"quality":"1080P"})", ""},
  };
  for (const Rule& rule : rules) {
    auto parsed = ParseVideo(json::parse(rule.body));
    if (std::string(rule.refused_field).empty()) {
      EXPECT_TRUE(parsed.ok()) << rule.body << ": " << parsed.error().message;
    } else {
      ASSERT_FALSE(parsed.ok()) << rule.body;
      EXPECT_EQ(parsed.error().field, rule.refused_field) << rule.body << ": " << parsed.error().message;
      EXPECT_EQ(RenderError(parsed.error()).status, 400);
    }
  }
}

TEST(UnifiedParse, WhatImageAndReferenceToVideoMean) {
  auto i2v = ParseVideo(J(R"({"model":"wan2.7-i2v","image_start":"https://a/1.png","image_end":"https://a/2.png"})"));
  ASSERT_TRUE(i2v.ok());
  EXPECT_EQ(i2v->model_alias, "wan2.7-i2v") << "the id as sent is echoed";
  EXPECT_EQ(i2v->request.model, "wan2.7-i2v");
  EXPECT_EQ(i2v->request.generation_mode, core::kModeFirstLastFrame) << "inferred from the materials";
  EXPECT_EQ(i2v->request.last_frame_url, "https://a/2.png");
  EXPECT_EQ(i2v->request.prompt_extend, false);
  auto r2v = ParseVideo(J(R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],
                              "video_urls":["https://a/v.mp4"],"audio_urls":["https://a/v1.mp3","https://a/i1.mp3"]})"));
  ASSERT_TRUE(r2v.ok()) << r2v.error().message;
  EXPECT_EQ(r2v->request.voice_bindings,
            (std::vector<std::pair<std::string, std::string>>{{"video1", "https://a/v1.mp3"}, {"image1", "https://a/i1.mp3"}}))
      << "voices bind by position, videos first";
  auto bound = ParseVideo(J(R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],
                                "audio_urls":["https://a/ignored.mp3"],
                                "model_params":{"voice_bindings":{"image1":"https://a/v.mp3"}}})"));
  ASSERT_TRUE(bound.ok());
  EXPECT_EQ(bound->request.voice_bindings.at(0).second, "https://a/v.mp3") << "voice_bindings win over audio_urls";
  auto with_frame = ParseVideo(J(R"({"model":"wan2.7-reference-video","prompt":"x","image_urls":["https://a/1.png"],
                                     "image_start":"https://a/f.png","aspect_ratio":"1:1"})"));
  EXPECT_EQ(with_frame->request.aspect_ratio, "") << "the first frame's ratio wins";
  auto quota = RenderError(MakeError(ErrorCode::kInsufficientCredits, "out of credits"));
  EXPECT_EQ(quota.status, 402);
  EXPECT_EQ(json::parse(quota.body)["error"]["type"], "insufficient_quota");
}

}  // namespace
}  // namespace wanserve::api::dialects::unified
