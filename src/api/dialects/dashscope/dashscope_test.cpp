// The DashScope dialect against the request/response pairs of Alibaba's documentation
// (API-DIALECTS.md §4): documented bodies parse to what they ask for, and our answers carry
// the documented fields.
#include <gtest/gtest.h>

#include "api/dialects/dashscope/internal.h"
#include "common/time_format.h"

namespace wanserve::api::dialects::dashscope {
namespace {

json J(const char* text) { return json::parse(text); }

TEST(DashScopeParse, DocumentedTextToVideoBody) {
  auto r = ParseVideo(J(R"({"model": "wan2.7-t2v",
      "input": {"prompt": "a kitten", "negative_prompt": "blur", "audio_url": "https://example.com/a.mp3"},
      "parameters": {"resolution": "720P", "ratio": "16:9", "duration": 15, "prompt_extend": true,
                     "watermark": false, "seed": 42}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, core::RequestKind::kTextToVideo);
  EXPECT_EQ(r->resolution_tier, "720p");
  EXPECT_EQ(r->width, 1280);
  EXPECT_EQ(r->height, 720);
  EXPECT_EQ(r->duration_s, 15);
  EXPECT_EQ(r->audio_urls, std::vector<std::string>{"https://example.com/a.mp3"});
  EXPECT_EQ(r->seed, 42);
  EXPECT_EQ(r->negative_prompt, "blur");
}

TEST(DashScopeParse, DefaultsAreDashScopes) {
  auto r = ParseVideo(J(R"({"model": "wan2.7-t2v", "input": {"prompt": "p"}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->resolution_tier, "1080p");
  EXPECT_EQ(r->aspect_ratio, "16:9");
  EXPECT_EQ(r->duration_s, 5);
  EXPECT_EQ(r->prompt_extend, true) << "DashScope extends prompts unless told not to";
  EXPECT_EQ(r->watermark, false);
  auto img = ParseImage(J(R"({"model": "wan2.7-image", "input": {"messages": [{"role": "user", "content": [{"text": "p"}]}]}})"));
  ASSERT_TRUE(img.ok()) << img.error().message;
  EXPECT_EQ(img->width, 2048) << "size defaults to 2K";
  EXPECT_EQ(img->count, 1);
  EXPECT_EQ(img->thinking_mode, true);
}

TEST(DashScopeParse, DocumentedVideoEditBody) {
  auto r = ParseVideo(J(R"({"model": "wan2.7-videoedit",
      "input": {"prompt": "Convert the entire scene to a clay style",
                "media": [{"type": "video", "url": "https://example.com/in.mp4"},
                          {"type": "reference_image", "url": "https://example.com/ref.webp"}]},
      "parameters": {"resolution": "1080P", "duration": 0, "audio_setting": "auto", "prompt_extend": true,
                     "watermark": false, "seed": 1}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, core::RequestKind::kVideoEdit);
  EXPECT_EQ(r->video_url, "https://example.com/in.mp4");
  EXPECT_EQ(r->image_urls, std::vector<std::string>{"https://example.com/ref.webp"});
  EXPECT_EQ(r->duration_s, 0) << "0 keeps the input's duration";
  EXPECT_EQ(r->aspect_ratio, "") << "no ratio keeps the input's";
  EXPECT_EQ(r->audio_setting, "auto");
}

TEST(DashScopeParse, DocumentedImageBody) {
  auto r = ParseImage(J(R"({"model": "wan2.7-image-pro",
      "input": {"messages": [{"role": "user", "content": [{"text": "A flower shop"},
                                                          {"image": "https://example.com/ref1.png"}]}]},
      "parameters": {"n": 1, "size": "2K", "watermark": false, "thinking_mode": true}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->kind, core::RequestKind::kImageEdit);
  EXPECT_EQ(r->prompt, "A flower shop");
  EXPECT_EQ(r->image_urls.size(), 1u);
  EXPECT_FALSE(r->thinking_mode.has_value()) << "thinking mode is for text-to-image";
  auto custom = ParseImage(J(R"({"model": "wan2.7-image", "input": {"messages": [{"role": "user",
      "content": [{"text": "p"}]}]}, "parameters": {"size": "1536*1024", "n": 2}})"));
  ASSERT_TRUE(custom.ok()) << custom.error().message;
  EXPECT_EQ(custom->width, 1536);
  EXPECT_EQ(custom->height, 1024);
  EXPECT_EQ(custom->count, 2);
}

TEST(DashScopeParse, EveryRangeIsEnforcedNamingTheField) {
  auto field = [](auto result) { return result.ok() ? std::string("accepted") : result.error().field; };
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-t2v","input":{"prompt":"p"},"parameters":{"duration":16}})"))),
            "parameters.duration");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-t2v","input":{"prompt":"p"},"parameters":{"resolution":"480P"}})"))),
            "parameters.resolution");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-t2v","input":{"prompt":"p"},"parameters":{"ratio":"21:9"}})"))),
            "parameters.ratio");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-t2v","input":{"prompt":"p"},"parameters":{"seed":-1}})"))),
            "parameters.seed");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-t2v","input":{}})"))), "input.prompt");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-t2v"})"))), "input");
  EXPECT_EQ(field(ParseVideo(J(R"({"input":{"prompt":"p"}})"))), "model");
  // Hostile shapes are refused, never thrown (a throw dropped the connection).
  EXPECT_EQ(field(ParseImage(J(R"({"model":"wan2.7-image","input":{"messages":[{"role":5,"content":[{"text":"p"}]}]}})"))),
            "input.messages");
  EXPECT_EQ(field(ParseImage(J(R"({"model":"wan2.7-image","input":{"messages":[{"content":[{"text":"p"}]}]}})"))),
            "input.messages");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-videoedit","input":{"prompt":"p","media":[{"type":5,"url":"https://e.com/v.mp4"}]}})"))),
            "input.media[0]");
  // The image prompt counts characters: 5000 three-byte characters pass, 5001 do not.
  std::string han;
  for (int i = 0; i < 5000; ++i) han += "\u6c34";
  const std::string image = R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":")";
  EXPECT_EQ(field(ParseImage(J((image + han + R"("}]}]}})").c_str()))), "accepted");
  EXPECT_EQ(field(ParseImage(J((image + han + R"(\u6c34"}]}]}})").c_str()))), "input.messages[0].content[0].text");
  EXPECT_EQ(ParseVideo(J(R"({"model":"wan2.7-s2v","input":{"prompt":"p"}})")).error().code,
            ErrorCode::kUnsupportedModel);
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-videoedit","input":{"media":[]}})"))), "input.media");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-videoedit","input":{"media":[{"type":"video","url":"https://a/v.mp4"}]},
      "parameters":{"duration":1}})"))), "parameters.duration");
  EXPECT_EQ(field(ParseVideo(J(R"({"model":"wan2.7-videoedit","input":{"media":[{"type":"video","url":"ftp://a/v.mp4"}]}})"))),
            "input.media[0].url");
  EXPECT_EQ(field(ParseImage(J(R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"p"}]}]},
      "parameters":{"n":5}})"))), "parameters.n");
  EXPECT_EQ(field(ParseImage(J(R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"p"}]}]},
      "parameters":{"size":"4K"}})"))), "parameters.size") << "4K is for the pro model";
  std::string ten = R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"p"})";
  for (int i = 0; i < 10; ++i) ten += R"(,{"image":"https://a/)" + std::to_string(i) + R"(.png"})";
  EXPECT_EQ(field(ParseImage(json::parse(ten + "]}]}}"))), "input.messages");
}

// One row per rule of API-DIALECTS-2 §3 and §6: a body and the field it is refused on ("" when
// accepted).
TEST(DashScopeParse, EveryRuleOfImageAndReferenceToVideoDatedIdsAndAliases) {
  const std::pair<const char*, const char*> rules[] = {
      {R"({"model":"wan2.7-i2v","input":{"media":[{"type":"first_frame","url":"https://a/1.png"}]}})", ""},
      {R"({"model":"wan2.7-i2v-2026-04-25","input":{"media":[{"type":"first_frame","url":"https://a/1.png"},
          {"type":"last_frame","url":"https://a/2.png"},{"type":"driving_audio","url":"https://a/a.mp3"}]},
          "parameters":{"resolution":"720p"}})", ""},
      {R"({"model":"wan2.7-i2v","input":{"media":[{"type":"first_clip","url":"https://a/c.mp4"},
          {"type":"last_frame","url":"https://a/2.png"}]}})", ""},
      {R"({"model":"wan2.7-i2v","input":{"media":[{"type":"last_frame","url":"https://a/2.png"}]}})", "input.media"},
      {R"({"model":"wan2.7-i2v","input":{"media":[{"type":"first_frame","url":"https://a/1.png"},
          {"type":"first_frame","url":"https://a/2.png"}]}})", "input.media[1]"},
      {R"({"model":"wan2.7-i2v","input":{"media":[{"type":"first_clip","url":"https://a/c.mp4"},
          {"type":"driving_audio","url":"https://a/a.mp3"}]}})", "input.media"},
      {R"({"model":"wan2.7-i2v","input":{"media":[{"type":"video","url":"https://a/c.mp4"}]}})", "input.media[0].type"},
      {R"({"model":"wan2.7-i2v","input":{}})", "input.media"},
      {R"({"model":"wan2.7-i2v","input":{"media":[{"type":"first_frame","url":"https://a/1.png"}]},
          "parameters":{"duration":16}})", "parameters.duration"},
      {R"({"model":"wan2.7-r2v","input":{"prompt":"Image 1 waves","media":[{"type":"reference_image","url":"https://a/1.png",
          "reference_voice":"https://a/v.mp3"},{"type":"reference_video","url":"https://a/v.mp4"}]},
          "parameters":{"aspect_ratio":"9:16","duration":10}})", ""},
      {R"({"model":"wan2.7-r2v-2026-06-12","input":{"prompt":"p","media":[{"type":"reference_image","url":"https://a/1.png"},
          {"type":"first_frame","url":"https://a/f.png"}]},"parameters":{"duration":15}})", ""},
      {R"({"model":"wan2.7-r2v","input":{"prompt":"p","media":[{"type":"reference_video","url":"https://a/v.mp4"}]},
          "parameters":{"duration":11}})", "parameters.duration"},
      {R"({"model":"wan2.7-r2v","input":{"media":[{"type":"reference_image","url":"https://a/1.png"}]}})", "input.prompt"},
      {R"({"model":"wan2.7-r2v","input":{"prompt":"p","media":[{"type":"first_frame","url":"https://a/f.png"}]}})",
       "input.media"},
      {R"({"model":"wan2.7-r2v","input":{"prompt":"p","media":[{"type":"first_frame","url":"https://a/f.png",
          "reference_voice":"https://a/v.mp3"},{"type":"reference_image","url":"https://a/1.png"}]}})",
       "input.media[0].reference_voice"},
      {R"({"model":"wan2.7-t2v","input":{"prompt":"p"},"parameters":{"ratio":"1:1","aspect_ratio":"9:16"}})",
       "parameters.ratio"},
      {R"({"model":"wan2.7-t2v-2026-04-25","input":{"prompt":"p"},"parameters":{"aspect_ratio":"9:16","resolution":"720p"}})",
       ""},
      {R"({"model":"wan2.7-t2v-2026-4-25","input":{"prompt":"p"}})", "model"},
      {R"({"model":"wan2.7-videoedit","input":{"prompt":"p","media":[{"type":5,"url":"https://example.com/v.mp4"}]}})",
       "input.media[0]"},
  };
  for (const auto& [body, field] : rules) {
    auto parsed = ParseVideo(json::parse(body));
    if (std::string(field).empty()) {
      EXPECT_TRUE(parsed.ok()) << body << ": " << parsed.error().message;
    } else {
      ASSERT_FALSE(parsed.ok()) << body;
      EXPECT_EQ(parsed.error().field, field) << body << ": " << parsed.error().message;
    }
  }
  auto r2v = ParseVideo(J(R"({"model":"wan2.7-r2v","input":{"prompt":"p","media":[
      {"type":"reference_image","url":"https://a/1.png"},{"type":"reference_image","url":"https://a/2.png",
       "reference_voice":"https://a/v.mp3"}]},"parameters":{"aspect_ratio":"9:16"}})"));
  ASSERT_TRUE(r2v.ok());
  EXPECT_EQ(r2v->kind, core::RequestKind::kReferenceToVideo);
  EXPECT_EQ(r2v->voice_bindings, (std::vector<std::pair<std::string, std::string>>{{"image2", "https://a/v.mp3"}}));
  EXPECT_EQ(r2v->aspect_ratio, "9:16") << "parameters.aspect_ratio stands for ratio";
  auto dated = ParseVideo(J(R"({"model":"wan2.7-i2v-2026-04-25","input":{"media":[{"type":"first_frame","url":"https://a/1.png"}]}})"));
  ASSERT_TRUE(dated.ok());
  EXPECT_EQ(dated->model, "wan2.7-i2v") << "a dated id runs as its base model";
  EXPECT_EQ(dated->generation_mode, core::kModeFirstFrame);
}

TEST(DashScopeRender, ErrorsAreRequestIdCodeMessage) {
  auto r = RenderError(MakeError(ErrorCode::kInvalidInput, "parameters.duration: must be 2-15", "parameters.duration"));
  EXPECT_EQ(r.status, 400);
  const json body = json::parse(r.body);
  EXPECT_EQ(body["code"], "InvalidParameter");
  EXPECT_EQ(body["message"], "parameters.duration: must be 2-15");
  EXPECT_EQ(body["request_id"].get<std::string>().size(), 36u);
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kUnauthorized, "x")).status, 401);
  EXPECT_EQ(json::parse(RenderError(MakeError(ErrorCode::kUnauthorized, "x")).body)["code"], "InvalidApiKey");
  EXPECT_EQ(json::parse(RenderError(MakeError(ErrorCode::kInsufficientCredits, "x")).body)["code"], "Arrearage");
  EXPECT_EQ(RenderError(MakeError(ErrorCode::kRateLimited, "x")).status, 429);
}

TEST(DashScopeRender, TimesAreDashScopeStrings) {
  EXPECT_EQ(FormatSpacedUtc(1'758'798'448'590), "2025-09-25 11:07:28.590");
  EXPECT_EQ(BeijingTime(1'758'798'448'590), "2025-09-25 19:07:28.590") << "Beijing's clock, as DashScope writes it";
  EXPECT_EQ(BeijingTime(1'758'758'400'000), "2025-09-25 08:00:00.000") << "past midnight UTC";
  EXPECT_EQ(NewId()[14], '4') << "ids are version 4 UUIDs";
  EXPECT_EQ(RenderUnknown("abc", "req-1")["output"], J(R"({"task_id":"abc","task_status":"UNKNOWN"})"));
}

}  // namespace
}  // namespace wanserve::api::dialects::dashscope
