#include <gtest/gtest.h>

#include "api/dialects/market/internal.h"

namespace wanserve::api::dialects::market {
namespace {

json J(const char* text) { return json::parse(text); }

TEST(MarketParse, ImageDefaultsAndParamEcho) {
  auto p = Parse(J(R"({"model":"wan/2-7-image-pro","callBackUrl":"https://h.example/cb","input":{"prompt":"x"}})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.model, "wan2.7-image-pro");
  EXPECT_EQ(p->request.resolution_tier, "2K");
  EXPECT_EQ(p->request.width, 2048);
  EXPECT_EQ(p->request.count, 1);
  EXPECT_EQ(p->request.callback_url, "https://h.example/cb");
  EXPECT_EQ(p->param, J(R"({"model":"wan/2-7-image-pro","callBackUrl":"https://h.example/cb","input":{"prompt":"x"}})"));
}

TEST(MarketParse, ImageModeRules) {
  EXPECT_TRUE(Parse(J(R"({"model":"wan/2-7-image-pro","input":{"prompt":"x","resolution":"4K"}})")).ok());
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","resolution":"4K"}})")).error().field,
            "input.resolution");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image-pro","input":{"prompt":"x","resolution":"4K","enable_sequential":true}})"))
                .error().field, "input.resolution");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","n":5}})")).error().field, "input.n");
  auto seq = Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","enable_sequential":true}})"));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(seq->request.count, 12);
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","enable_sequential":true,"n":13}})")).error().field,
            "input.n");
  std::string nine = R"({"model":"wan/2-7-image","input":{"prompt":"x","input_urls":[)";
  for (int i = 0; i < 9; ++i) nine += std::string(i ? "," : "") + "\"https://a/" + std::to_string(i) + "\"";
  EXPECT_TRUE(Parse(json::parse(nine + "]}}")).ok());
  EXPECT_EQ(Parse(json::parse(nine + ",\"https://a/9\"]}}")).error().field, "input.input_urls");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","aspect_ratio":"5:4"}})")).error().field,
            "input.aspect_ratio");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","color_palette":[{"hex":"#fff"}]}})")).error().field,
            "input.color_palette");
}

TEST(MarketParse, VideoModelsAndEnvelopeErrors) {
  auto t2v = Parse(J(R"({"model":"wan/2-7-text-to-video","input":{"prompt":"x","resolution":"720p","duration":15}})"));
  ASSERT_TRUE(t2v.ok()) << t2v.error().message;
  EXPECT_EQ(t2v->request.width, 1280);
  EXPECT_EQ(t2v->request.prompt_extend, true);
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-videoedit","input":{"prompt":"x"}})")).error().field, "input.video_url");
  auto unknown = Parse(J(R"({"model":"wan/9-9","input":{"prompt":"x"}})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(EnvelopeCode(unknown.error().code), 422);
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image"})")).error().field, "input");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","callBackUrl":"http://x","input":{"prompt":"x"}})")).error().field,
            "callBackUrl");
  auto r = RenderError(MakeError(ErrorCode::kUnauthorized, "no key"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), J(R"({"code":401,"msg":"no key","data":null})"));
  EXPECT_EQ(EnvelopeCode(ErrorCode::kInsufficientCredits), 402);
  EXPECT_EQ(EnvelopeCode(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(EnvelopeCode(ErrorCode::kUnavailable), 455);
  EXPECT_EQ(EnvelopeCode(ErrorCode::kNotFound), 404);
}

// One row per rule of API-DIALECTS-2 §1 and §6: a body and the field it is refused on ("" when
// it is accepted).
struct Rule {
  const char* model;
  const char* input;
  const char* refused_field;
};

TEST(MarketParse, EveryRuleOfTheVideoModelsAndTheirAliases) {
  const Rule rules[] = {
      {"wan/2-7-text-to-video", R"({"prompt":"x","ratio":"9:16"})", ""},
      {"wan/2-7-text-to-video", R"({"prompt":"x","aspect_ratio":"1:1"})", ""},
      {"wan/2-7-text-to-video", R"({"prompt":"x","ratio":"1:1","aspect_ratio":"1:1"})", ""},
      {"wan/2-7-text-to-video", R"({"prompt":"x","ratio":"16:9","aspect_ratio":"1:1"})", "input.ratio"},
      {"wan/2-7-text-to-video", R"({"prompt":"x","ratio":"5:4"})", "input.ratio"},
      {"wan/2-7-text-to-video", R"({"prompt":"x","duration":"7","resolution":"720P","prompt_extend":"false"})", ""},
      {"wan/2-7-text-to-video", R"({"prompt":"x","duration":"seven"})", "input.duration"},
      {"wan/2-7-text-to-video", R"({"prompt":"x","duration":16})", "input.duration"},
      {"wan/2-7-text-to-video", R"({"prompt":"x","seed":-1})", "input.seed"},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_frame_url":"https://a/1.png"})", ""},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_frame":"https://a/1.png","audio_url":"https://a/a.mp3"})", ""},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_frame_url":"https://a/1.png","last_frame_url":"https://a/2.png",
                                    "driving_audio_url":"https://a/a.mp3"})", ""},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_clip_url":"https://a/c.mp4","last_frame_url":"https://a/2.png"})", ""},
      {"wan/2-7-image-to-video", R"({"prompt":"x"})", "input.first_frame_url"},
      {"wan/2-7-image-to-video", R"({"first_frame_url":"https://a/1.png"})", "input.prompt"},
      {"wan/2-7-image-to-video", R"({"prompt":"x","last_frame_url":"https://a/2.png"})", "input.last_frame_url"},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_clip_url":"https://a/c.mp4","first_frame_url":"https://a/1.png"})",
       "input.first_frame_url"},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_clip_url":"https://a/c.mp4","driving_audio_url":"https://a/a.mp3"})",
       "input.driving_audio_url"},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_frame_url":"https://a/1.png","first_frame":"https://a/9.png"})",
       "input.first_frame_url"},
      {"wan/2-7-image-to-video", R"({"prompt":"x","first_frame_url":"ftp://a/1.png"})", "input.first_frame_url"},
      {"wan/2-7-r2v", R"({"prompt":"Image 1 walks","reference_image":"https://a/1.png"})", ""},
      {"wan/2-7-r2v", R"({"prompt":"x","reference_image":["https://a/1.png","https://a/2.png"],
                         "reference_video":["https://a/v.mp4"],"reference_voice":"https://a/voice.mp3","ratio":"9:16"})", ""},
      {"wan/2-7-r2v", R"({"prompt":"x"})", "input.reference_image"},
      {"wan/2-7-r2v", R"({"prompt":"x","reference_image":["https://a/1","https://a/2","https://a/3","https://a/4"],
                         "reference_video":["https://a/v1","https://a/v2"]})", "input.reference_image"},
      {"wan/2-7-r2v", R"({"prompt":"x","reference_image":"https://a/1.png","duration":11})", "input.duration"},
      {"wan/2-7-r2v", R"({"reference_image":"https://a/1.png"})", "input.prompt"},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","reference_image":"https://a/r.png"})", ""},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","reference_image":["https://a/1","https://a/2"]})", ""},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","reference_image_url":"https://a/r.png"})", ""},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","audio_setting":{"mode":"origin"}})", ""},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","ratio":"16:9"})", ""},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","reference_image":["https://a/1","https://a/2",
                                "https://a/3","https://a/4","https://a/5"]})", "input.reference_image"},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","duration":1})", "input.duration"},
      {"wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","audio_setting":{"mode":"loud"}})", "input.audio_setting.mode"},
      {"wan/2-7-image", R"({"prompt":"x","resolution":"4K"})", "input.resolution"},
      {"wan/2-7-image", R"({"prompt":"x","resolution":"1k"})", ""},
  };
  for (const Rule& rule : rules) {
    json body = {{"model", rule.model}, {"input", json::parse(rule.input)}};
    auto parsed = Parse(body);
    if (std::string(rule.refused_field).empty()) {
      EXPECT_TRUE(parsed.ok()) << rule.model << " " << rule.input << ": " << parsed.error().message;
    } else {
      ASSERT_FALSE(parsed.ok()) << rule.model << " " << rule.input;
      EXPECT_EQ(parsed.error().field, rule.refused_field) << rule.model << " " << rule.input << ": " << parsed.error().message;
      EXPECT_EQ(EnvelopeCode(parsed.error().code), 422);
    }
  }
}

TEST(MarketParse, WhatTheAcceptedRulesMeanInTheRequest) {
  auto request = [](const char* model, const char* input) {
    auto parsed = Parse(json{{"model", model}, {"input", json::parse(input)}});
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    return parsed.ok() ? parsed->request : core::GenerationRequest{};
  };
  auto t2v = request("wan/2-7-text-to-video", R"({"prompt":"x","ratio":"9:16","duration":"7","resolution":"720P"})");
  EXPECT_EQ(t2v.aspect_ratio, "9:16") << "kie's ratio is honoured (it used to be ignored)";
  EXPECT_EQ(std::make_pair(t2v.width, t2v.height), std::make_pair(720, 1280));
  EXPECT_EQ(t2v.duration_s, 7);
  EXPECT_EQ(t2v.resolution_tier, "720p");
  EXPECT_EQ(request("wan/2-7-text-to-video", R"({"prompt":"x","aspect_ratio":"1:1"})").aspect_ratio, "1:1");

  auto i2v = request("wan/2-7-image-to-video", R"({"prompt":"x","first_frame":"https://a/1.png","audio_url":"https://a/a.mp3"})");
  EXPECT_EQ(i2v.kind, core::RequestKind::kImageToVideo);
  EXPECT_EQ(i2v.generation_mode, core::kModeFirstFrame);
  EXPECT_EQ(i2v.first_frame_url, "https://a/1.png");
  EXPECT_EQ(i2v.audio_urls, std::vector<std::string>{"https://a/a.mp3"});
  EXPECT_EQ(i2v.aspect_ratio, "") << "the first frame's ratio wins";
  auto continuation = request("wan/2-7-image-to-video",
                              R"({"prompt":"x","first_clip_url":"https://a/c.mp4","last_frame_url":"https://a/2.png"})");
  EXPECT_EQ(continuation.generation_mode, core::kModeContinuation);
  EXPECT_EQ(continuation.video_url, "https://a/c.mp4");

  auto r2v = request("wan/2-7-r2v", R"({"prompt":"x","reference_image":"https://a/1.png","reference_video":"https://a/v.mp4",
                                        "reference_voice":"https://a/voice.mp3","ratio":"1:1","duration":10})");
  EXPECT_EQ(r2v.image_urls, std::vector<std::string>{"https://a/1.png"}) << "a bare string is a list of one";
  EXPECT_EQ(r2v.reference_video_urls, std::vector<std::string>{"https://a/v.mp4"});
  EXPECT_EQ(r2v.voice_bindings, (std::vector<std::pair<std::string, std::string>>{{"video1", "https://a/voice.mp3"}}))
      << "the voice binds to the first reference video";
  EXPECT_EQ(r2v.aspect_ratio, "1:1");
  EXPECT_EQ(request("wan/2-7-r2v", R"({"prompt":"x","reference_image":"https://a/1.png","reference_voice":"https://a/v.mp3"})")
                .voice_bindings.at(0).first, "image1");
  EXPECT_EQ(request("wan/2-7-r2v", R"({"prompt":"x","reference_image":"https://a/1.png","first_frame":"https://a/f.png",
                                      "aspect_ratio":"1:1"})").aspect_ratio, "")
      << "the first frame's ratio wins";

  auto edit = request("wan/2-7-videoedit", R"({"video_url":"https://a/v.mp4","reference_image":["https://a/r.png"],
                                              "ratio":"16:9","audio_setting":{"mode":"origin"}})");
  EXPECT_EQ(edit.image_urls, std::vector<std::string>{"https://a/r.png"}) << "a one-element list is unwrapped";
  EXPECT_EQ(edit.aspect_ratio, "") << "ratio is ignored on edits: the input's is kept";
  EXPECT_EQ(edit.audio_setting, "origin");
}

}  // namespace
}  // namespace wanserve::api::dialects::market
