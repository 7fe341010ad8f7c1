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

struct Rule {
  const char* body;
  const char* refused_field;  // "" when the body is accepted
};

TEST(SkillsVideoParse, EveryRuleOfTheUnifiedVideoModel) {
  const Rule rules[] = {
      {R"({"prompt":"a cat"})", ""},
      {R"({"feature":"text-image","prompt":"x","aspect_ratio":"9:16","duration":15,"resolution":"720p"})", ""},
      {R"({"prompt":"x","duration":16})", "duration"},
      {R"({"prompt":"x","duration":1})", "duration"},
      {R"({"prompt":"x","aspect_ratio":"2:1"})", "aspect_ratio"},
      {R"({"prompt":"x","resolution":"4K"})", "resolution"},
      {R"({"prompt":"x","seed":2147483648})", "seed"},
      {R"({"prompt":"x","negative_prompt":null,"seed":null,"prompt":null})", ""},
      {R"({"image_url":"https://a/1.png"})", ""},
      {R"({"image_url":"https://a/1.png","audio_url":"https://a/a.mp3","aspect_ratio":"bogus-but-ignored"})", ""},
      {R"({"video_url":"https://a/c.mp4"})", ""},
      {R"({"video_url":"https://a/c.mp4","image_url":"https://a/1.png"})", "image_url"},
      {R"({"video_url":"https://a/c.mp4","audio_url":"https://a/a.mp3"})", "audio_url"},
      {R"({"image_url":"ftp://a/1.png"})", "image_url"},
      {R"({"feature":"frames","image_url":"https://a/1.png","end_image_url":"https://a/2.png"})", ""},
      {R"({"feature":"frames-to-video","image_url":"https://a/1.png","end_image_url":"https://a/2.png"})", ""},
      {R"({"feature":"frames","end_image_url":"https://a/2.png"})", "image_url"},
      {R"({"feature":"frames"})", "image_url"},
      {R"({"feature":"reference","prompt":"Image 1 waves","reference_image_urls":["https://a/1.png"]})", ""},
      {R"({"feature":"reference-to-video","prompt":"x","video_refs":["https://a/v.mp4"],"duration":10})", ""},
      {R"({"feature":"reference","prompt":"x","video_refs":["https://a/v.mp4"],"duration":11})", "duration"},
      {R"({"feature":"reference","prompt":"x","reference_image_urls":["https://a/1.png"],"duration":15})", ""},
      {R"({"feature":"reference","reference_image_urls":["https://a/1.png"]})", "prompt"},
      {R"({"feature":"reference","prompt":"x"})", "reference_image_urls"},
      {R"({"feature":"reference","prompt":"x","reference_image_urls":["https://a/1","https://a/2","https://a/3"],
           "video_refs":["https://a/4","https://a/5","https://a/6"]})", "reference_image_urls"},
      {R"({"feature":"reference","prompt":"x","reference_image_urls":["https://a/1","https://a/2","https://a/3",
           "https://a/4","https://a/5","https://a/6","https://a/7","https://a/8","https://a/9"]})", "reference_image_urls"},
      {R"({"feature":"reference","prompt":"x","reference_image_urls":["https://a/1"],"multi_shots":"true"})", ""},
      {R"({"feature":"reference","prompt":"x","reference_image_urls":["https://a/1"],"multi_shots":"yes"})", "multi_shots"},
      {R"({"feature":"edit-video","prompt":"neon","video_url":"https://a/v.mp4"})", ""},
      {R"({"feature":"edit_video","prompt":"neon","video_url":"https://a/v.mp4","reference_image_url":"https://a/r.png"})", ""},
      {R"({"feature":"edit-video","prompt":"x","video_url":"https://a/v.mp4","reference_image_urls":["https://a/r.png"],
           "reference_image_url":"https://a/r.png"})", ""},
      {R"({"feature":"edit-video","prompt":"x","video_url":"https://a/v.mp4","reference_image_urls":["https://a/r.png"],
           "reference_image_url":"https://a/other.png"})", "reference_image_url"},
      {R"({"feature":"edit-video","video_url":"https://a/v.mp4"})", "prompt"},
      {R"({"feature":"edit-video","prompt":"x"})", "video_url"},
      {R"({"feature":"edit-video","prompt":"x","video_url":"https://a/v.mp4","duration":1})", "duration"},
      {R"({"feature":"edit-video","prompt":"x","video_url":"https://a/v.mp4","duration":11})", "duration"},
      {R"({"feature":"edit-video","prompt":"x","video_url":"https://a/v.mp4","audio_setting":"mute"})", "audio_setting"},
      {R"({"feature":"dance","prompt":"x"})", "feature"},
      {R"({"prompt":"x","enable_prompt_expansion":"false","unknown":[1,2]})", ""},
  };
  for (const Rule& rule : rules) {
    auto parsed = Parse(Endpoint::kVideo, J(rule.body));
    if (std::string(rule.refused_field).empty()) {
      EXPECT_TRUE(parsed.ok()) << rule.body << ": " << parsed.error().message;
    } else {
      ASSERT_FALSE(parsed.ok()) << rule.body;
      EXPECT_EQ(parsed.error().field, rule.refused_field) << rule.body << ": " << parsed.error().message;
      EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
    }
  }
}

TEST(SkillsVideoParse, WhatEachFeatureOfTheVideoModelMeans) {
  auto t2v = Parse(Endpoint::kVideo, J(R"({"prompt":"a cat"})"));
  ASSERT_TRUE(t2v.ok());
  EXPECT_EQ(t2v->request.kind, core::RequestKind::kTextToVideo);
  EXPECT_EQ(t2v->request.model, "wan2.7-t2v");
  EXPECT_EQ(t2v->request.width, 1920);
  EXPECT_EQ(t2v->request.duration_s, 5);
  EXPECT_EQ(t2v->request.prompt_extend, true);
  EXPECT_EQ(t2v->echo, J(R"({"feature":"text-image","prompt":"a cat","aspect_ratio":"16:9","duration":5,
                              "resolution":"1080p","enable_prompt_expansion":true,"n":1})"));

  auto i2v = Parse(Endpoint::kVideo, J(R"({"image_url":"https://a/1.png","audio_url":"https://a/a.mp3",
                                            "end_image_url":"https://a/ignored.png","resolution":"720p"})"));
  ASSERT_TRUE(i2v.ok());
  EXPECT_EQ(i2v->request.kind, core::RequestKind::kImageToVideo);
  EXPECT_EQ(i2v->request.generation_mode, "first_frame");
  EXPECT_EQ(i2v->request.first_frame_url, "https://a/1.png");
  EXPECT_EQ(i2v->request.last_frame_url, "") << "end_image_url belongs to feature frames";
  EXPECT_EQ(i2v->request.audio_urls, std::vector<std::string>{"https://a/a.mp3"});
  EXPECT_EQ(i2v->request.aspect_ratio, "") << "the first frame's ratio wins";
  EXPECT_FALSE(i2v->echo.contains("aspect_ratio"));

  auto clip = Parse(Endpoint::kVideo, J(R"({"video_url":"https://a/c.mp4","duration":8})"));
  ASSERT_TRUE(clip.ok());
  EXPECT_EQ(clip->request.generation_mode, "video_continuation");
  EXPECT_EQ(clip->request.video_url, "https://a/c.mp4");
  EXPECT_EQ(clip->request.duration_s, 8) << "the total length, clip included";

  auto frames = Parse(Endpoint::kVideo, J(R"({"feature":"frames","image_url":"https://a/1.png",
                                               "end_image_url":"https://a/2.png","video_url":"https://a/ignored.mp4"})"));
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(frames->request.generation_mode, "first_last_frame");
  EXPECT_EQ(frames->request.last_frame_url, "https://a/2.png");
  EXPECT_EQ(frames->request.video_url, "");
  EXPECT_EQ(frames->echo["feature"], "frames");

  auto r2v = Parse(Endpoint::kVideo, J(R"({"feature":"reference-to-video","prompt":"Image 1 meets Video 1",
      "reference_image_urls":["https://a/1.png"],"video_refs":["https://a/v.mp4"],"multi_shots":true,
      "aspect_ratio":"9:16"})"));
  ASSERT_TRUE(r2v.ok());
  EXPECT_EQ(r2v->request.kind, core::RequestKind::kReferenceToVideo);
  EXPECT_EQ(r2v->request.model, "wan2.7-r2v");
  EXPECT_EQ(r2v->request.image_urls, std::vector<std::string>{"https://a/1.png"});
  EXPECT_EQ(r2v->request.reference_video_urls, std::vector<std::string>{"https://a/v.mp4"});
  EXPECT_TRUE(r2v->request.prompt.starts_with("Image 1 meets Video 1 "));
  EXPECT_GT(r2v->request.prompt.size(), std::string("Image 1 meets Video 1").size()) << "multi-shot hint";
  EXPECT_EQ(r2v->echo["prompt"], "Image 1 meets Video 1");
  EXPECT_EQ(r2v->echo["feature"], "reference");
  EXPECT_EQ(r2v->request.width, 1080);

  auto edit = Parse(Endpoint::kVideo, J(R"({"feature":"edit-video","prompt":"neon","video_url":"https://a/v.mp4",
      "reference_image_urls":["https://a/r.png","https://a/unused.png"],"audio_setting":"origin"})"));
  ASSERT_TRUE(edit.ok());
  EXPECT_EQ(edit->request.kind, core::RequestKind::kVideoEdit);
  EXPECT_EQ(edit->request.image_urls, std::vector<std::string>{"https://a/r.png"});
  EXPECT_EQ(edit->request.duration_s, 0) << "edit keeps the input's length by default";
  EXPECT_EQ(edit->request.aspect_ratio, "") << "and its ratio";
  EXPECT_EQ(edit->request.audio_setting, "origin");
  EXPECT_EQ(edit->echo["reference_image_url"], "https://a/r.png");
}

TEST(SkillsVideoParse, NumbersSpelledAsStringsOnlyFromMultipartBodies) {
  const json body = J(R"({"prompt":"x","duration":"7","seed":"42"})");
  EXPECT_EQ(Parse(Endpoint::kVideo, body).error().field, "seed");
  auto form = Parse(Endpoint::kVideo, body, Leniency{.numeric_strings = true});
  ASSERT_TRUE(form.ok()) << form.error().message;
  EXPECT_EQ(form->request.duration_s, 7);
  EXPECT_EQ(form->request.seed, 42);
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
