#include "providers/dashscope/protocol.h"

#include <gtest/gtest.h>

namespace wanserve::providers::dashscope {
namespace {

using nlohmann::json;

core::GenerationRequest TextToVideo() {
  core::GenerationRequest r;
  r.kind = core::RequestKind::kTextToVideo;
  r.model = "wan2.7-t2v";
  r.prompt = "a kitten in the snow";
  r.negative_prompt = "blur";
  r.audio_urls = {"https://example.com/a.mp3"};
  r.width = 1280;
  r.height = 720;
  r.resolution_tier = "720p";
  r.aspect_ratio = "16:9";
  r.duration_s = 8;
  r.prompt_extend = false;
  r.seed = 42;
  return r;
}

TEST(DashScopeProtocol, TextToVideoMapsEveryFieldTheClientSet) {
  const auto call = BuildCreate(TextToVideo());
  EXPECT_EQ(call.path, "/services/aigc/video-generation/video-synthesis");
  EXPECT_EQ(call.body, json::parse(R"({
    "model": "wan2.7-t2v",
    "input": {"prompt": "a kitten in the snow", "negative_prompt": "blur", "audio_url": "https://example.com/a.mp3"},
    "parameters": {"resolution": "720P", "ratio": "16:9", "duration": 8, "prompt_extend": false,
                   "watermark": false, "seed": 42}})"));
}

TEST(DashScopeProtocol, VideoEditSendsMediaAndKeepsDurationZero) {
  core::GenerationRequest r;
  r.kind = core::RequestKind::kVideoEdit;
  r.model = "wan2.7-videoedit";
  r.prompt = "clay style";
  r.video_url = "https://example.com/in.mp4";
  r.image_urls = {"https://example.com/ref.webp"};
  r.resolution_tier = "1080p";
  r.audio_setting = "origin";
  r.prompt_extend = true;
  const auto call = BuildCreate(r);
  EXPECT_EQ(call.path, "/services/aigc/video-generation/video-synthesis");
  EXPECT_EQ(call.body, json::parse(R"({
    "model": "wan2.7-videoedit",
    "input": {"prompt": "clay style", "media": [{"type": "video", "url": "https://example.com/in.mp4"},
                                                {"type": "reference_image", "url": "https://example.com/ref.webp"}]},
    "parameters": {"resolution": "1080P", "duration": 0, "audio_setting": "origin", "prompt_extend": true,
                   "watermark": false}})"))
      << "no ratio: DashScope keeps the input's";
}

TEST(DashScopeProtocol, ImageToVideoSendsTheFirstFrameAsMediaAndNoRatio) {
  core::GenerationRequest r = TextToVideo();
  r.kind = core::RequestKind::kImageToVideo;
  r.model = "wan2.7-i2v";
  r.first_frame_url = "https://example.com/first.png";
  const auto call = BuildCreate(r);
  EXPECT_EQ(call.path, "/services/aigc/video-generation/video-synthesis");
  EXPECT_EQ(call.body, json::parse(R"({
    "model": "wan2.7-i2v",
    "input": {"prompt": "a kitten in the snow", "negative_prompt": "blur",
              "media": [{"type": "first_frame", "url": "https://example.com/first.png"},
                        {"type": "driving_audio", "url": "https://example.com/a.mp3"}]},
    "parameters": {"resolution": "720P", "duration": 8, "prompt_extend": false, "watermark": false, "seed": 42}})"))
      << "the first frame's ratio wins";
}

TEST(DashScopeProtocol, ReferenceToVideoSendsEachReferenceWithItsVoice) {
  core::GenerationRequest r = TextToVideo();
  r.kind = core::RequestKind::kReferenceToVideo;
  r.model = "wan2.7-r2v";
  r.audio_urls.clear();
  r.image_urls = {"https://example.com/cat.png", "https://example.com/dog.png"};
  r.reference_video_urls = {"https://example.com/walk.mp4"};
  r.voice_bindings = {{"video1", "https://example.com/v1.mp3"}, {"image2", "https://example.com/v2.mp3"}};
  EXPECT_EQ(BuildCreate(r).body["input"]["media"], json::parse(R"([
    {"type": "reference_image", "url": "https://example.com/cat.png"},
    {"type": "reference_image", "url": "https://example.com/dog.png", "reference_voice": "https://example.com/v2.mp3"},
    {"type": "reference_video", "url": "https://example.com/walk.mp4", "reference_voice": "https://example.com/v1.mp3"}])"));
  EXPECT_EQ(BuildCreate(r).body["parameters"]["ratio"], "16:9");
  r.first_frame_url = "https://example.com/first.png";
  const auto with_frame = BuildCreate(r).body;
  EXPECT_EQ(with_frame["input"]["media"].back(), json::parse(R"({"type":"first_frame","url":"https://example.com/first.png"})"));
  EXPECT_FALSE(with_frame["parameters"].contains("ratio")) << "the first frame's ratio wins";
}

TEST(DashScopeProtocol, ImagesGoAsOneUserMessageWithExactSize) {
  core::GenerationRequest r;
  r.kind = core::RequestKind::kImageEdit;
  r.model = "wan2.7-image-pro";
  r.prompt = "make it night";
  r.image_urls = {"https://example.com/1.png", "https://example.com/2.png"};
  r.width = 2048;
  r.height = 1152;
  r.count = 2;
  r.thinking_mode = true;
  const auto call = BuildCreate(r);
  EXPECT_EQ(call.path, "/services/aigc/image-generation/generation");
  EXPECT_EQ(call.body, json::parse(R"({
    "model": "wan2.7-image-pro",
    "input": {"messages": [{"role": "user", "content": [{"text": "make it night"},
                                                        {"image": "https://example.com/1.png"},
                                                        {"image": "https://example.com/2.png"}]}]},
    "parameters": {"size": "2048*1152", "n": 2, "watermark": false}})"))
      << "thinking mode is for text-to-image only";
  r.kind = core::RequestKind::kTextToImage;
  r.image_urls.clear();
  EXPECT_EQ(BuildCreate(r).body["parameters"]["thinking_mode"], true);
}

TEST(DashScopeProtocol, ErrorCodesMapToOurClassesAndNeverBlameTheClientForOurAccount) {
  EXPECT_EQ(MapError(400, "InvalidParameter", "bad").code, ErrorCode::kInvalidInput);
  EXPECT_EQ(MapError(400, "BadRequest.EmptyInput", "x").code, ErrorCode::kInvalidInput);
  EXPECT_EQ(MapError(400, "InvalidURL", "x").code, ErrorCode::kInvalidInput);
  EXPECT_EQ(MapError(400, "DataInspectionFailed", "x").code, ErrorCode::kContentRejected);
  EXPECT_EQ(MapError(400, "Arrearage", "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(MapError(400, "Arrearage", "x").detail_code, providers::kProviderQuotaExhausted);
  EXPECT_EQ(MapError(401, "InvalidApiKey", "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(MapError(401, "InvalidApiKey", "x").detail_code, providers::kProviderAuthFailed);
  EXPECT_EQ(MapError(403, "AccessDenied", "x").detail_code, providers::kProviderAccessDenied);
  EXPECT_EQ(MapError(404, "ModelNotFound", "x").detail_code, providers::kProviderAccessDenied);
  EXPECT_NE(MapError(401, "InvalidApiKey", "x").message.find("InvalidApiKey"), std::string::npos)
      << "the upstream's own code stays in the message";
  for (const auto& e : {MapError(401, "InvalidApiKey", "x"), MapError(403, "AccessDenied", "x"),
                        MapError(400, "Arrearage", "x")}) {
    EXPECT_FALSE(providers::MayTryNextProvider(e)) << e.detail_code << ": the operator's fault is not hidden";
  }
  for (const auto& e : {MapError(503, "", "x"), MapError(500, "InternalError", "x"),
                        MapError(429, "Throttling.RateQuota", "x")}) {
    EXPECT_TRUE(providers::MayTryNextProvider(e)) << e.detail_code << ": the provider's own fault";
  }
  EXPECT_EQ(MapError(429, "Throttling.RateQuota", "x").code, ErrorCode::kRateLimited);
  EXPECT_EQ(MapError(503, "", "x").code, ErrorCode::kUnavailable);
  EXPECT_EQ(MapError(503, "", "x").detail_code, "upstream_http_503");
  const Error e = MapError(400, "DataInspectionFailed", "Input data may contain inappropriate content.");
  EXPECT_EQ(e.detail_code, "DataInspectionFailed");
  EXPECT_NE(e.message.find("inappropriate content"), std::string::npos);
}

TEST(DashScopeProtocol, ReadsCreateAnswersAndErrorBodies) {
  auto id = ParseCreated(200, R"({"request_id":"r1","output":{"task_id":"abc-123","task_status":"PENDING"}})");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "abc-123");
  auto refused = ParseCreated(400, R"({"request_id":"r2","code":"InvalidParameter","message":"duration out of range"})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(refused.error().detail_code, "InvalidParameter");
  auto garbage = ParseCreated(200, "<html>");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().detail_code, "upstream_malformed");
}

TEST(DashScopeProtocol, ReadsTaskStatesResultsAndUsage) {
  auto video = ParseTask(200, R"({"request_id":"r","output":{"task_id":"t","task_status":"SUCCEEDED",
      "video_url":"https://oss.example.com/v.mp4?Expires=1"},
      "usage":{"duration":5,"output_video_duration":5,"video_count":1,"SR":720}})");
  ASSERT_TRUE(video.ok());
  EXPECT_EQ(video->phase, UpstreamPhase::kSucceeded);
  ASSERT_EQ(video->results.size(), 1u);
  EXPECT_TRUE(video->results[0].video);
  EXPECT_EQ(json::parse(video->usage_json)["SR"], 720);

  auto images = ParseTask(200, R"({"output":{"task_id":"t","task_status":"SUCCEEDED","finished":true,
      "choices":[{"finish_reason":"stop","message":{"role":"assistant","content":[
        {"image":"https://oss.example.com/1.png","type":"image"},{"image":"https://oss.example.com/2.png","type":"image"}]}}]},
      "usage":{"image_count":2}})");
  ASSERT_TRUE(images.ok());
  ASSERT_EQ(images->results.size(), 2u);
  EXPECT_FALSE(images->results[1].video);
  EXPECT_EQ(images->results[1].url, "https://oss.example.com/2.png");

  auto failed = ParseTask(200, R"({"output":{"task_id":"t","task_status":"FAILED","code":"DataInspectionFailed",
      "message":"Output data may contain inappropriate content."}})");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->phase, UpstreamPhase::kFailed);
  EXPECT_EQ(failed->error.code, ErrorCode::kContentRejected);

  EXPECT_EQ(ParseTask(200, R"({"output":{"task_id":"t","task_status":"UNKNOWN"}})")->phase, UpstreamPhase::kUnknown);
  EXPECT_EQ(ParseTask(200, R"({"output":{"task_id":"t","task_status":"RUNNING"}})")->phase, UpstreamPhase::kRunning);
  EXPECT_FALSE(ParseTask(200, R"({"output":{"task_status":"DANCING"}})").ok());
  EXPECT_EQ(ParseTask(500, "oops").error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace wanserve::providers::dashscope
