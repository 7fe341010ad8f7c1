// The market (kie) dialect's OpenAPI document, from its parser (api/openapi.h).
#include "api/dialects/market/internal.h"
#include "api/openapi.h"

namespace wanserve::api::dialects::market {
namespace {

using namespace examples;  // NOLINT(google-build-using-namespace): the example URLs


json Body(const char* model, json input) { return {{"model", model}, {"input", std::move(input)}}; }

BodyVariant Variant(const char* model, json input, std::string description, std::vector<json> more,
                    json properties = json::object()) {
  json with_callback = Body(model, input);
  with_callback["callBackUrl"] = kHook;
  more.push_back(std::move(with_callback));
  properties["model"] = {{"type", "string"}, {"const", model}};
  return {model,
          Body(model, std::move(input)),
          Parses<Parse>,
          properties,
          std::move(description),
          std::move(more),
          {"input"}};
}

std::vector<BodyVariant> Variants() {
  const std::string image_rules =
      "An edit when input_urls is sent. With enable_sequential, n is 1-12 (default 12). 4K is for "
      "wan/2-7-image-pro's non-sequential text to image only. color_palette: 3-10 {hex: \"#RRGGBB\", ratio}; "
      "bbox_list: a list per input image.";
  return {
      Variant("wan/2-7-image", {{"prompt", "a lighthouse at dusk"}, {"aspect_ratio", "16:9"}}, image_rules,
              {{{"model", "wan/2-7-image"}, {"callBackUrl", kHook},
                {"input", {{"prompt", "in watercolour"}, {"input_urls", {kPicture}}, {"n", 2}, {"seed", 3},
                           {"watermark", false}, {"nsfw_checker", true}, {"thinking_mode", true}}}}},
              // 4K is wan/2-7-image-pro's alone.
              {{"input.resolution", {{"type", "string"}, {"enum", {"1K", "2K"}}, {"default", "2K"}}}}),
      Variant("wan/2-7-image-pro", {{"prompt", "a lighthouse at dusk"}, {"resolution", "4K"}}, image_rules,
              {{{"model", "wan/2-7-image-pro"},
                {"input", {{"prompt", "a comic"}, {"enable_sequential", true}, {"n", 4}}}}}),
      Variant("wan/2-7-text-to-video", {{"prompt", "a boat on a lake"}, {"duration", 5}},
              "ratio (or aspect_ratio) sets the frame.",
              {{{"model", "wan/2-7-text-to-video"}, {"callBackUrl", kHook},
                {"input", {{"prompt", "a boat"}, {"audio_url", kVoice}, {"negative_prompt", "blur"}, {"seed", 1},
                           {"prompt_extend", false}, {"watermark", true}, {"nsfw_checker", false}, {"ratio", "9:16"}}}}}),
      Variant("wan/2-7-image-to-video", {{"prompt", "it sails off"}, {"first_frame_url", kPicture}},
              "A first frame, with a last frame and/or driving audio; or first_clip_url to continue, with a last "
              "frame. The first frame's (or the clip's) ratio is kept.",
              {{{"model", "wan/2-7-image-to-video"},
                {"input", {{"prompt", "it sails"}, {"first_frame_url", kPicture}, {"last_frame_url", kLast},
                           {"driving_audio_url", kVoice}}}},
               {{"model", "wan/2-7-image-to-video"},
                {"input", {{"prompt", "on and on"}, {"first_clip_url", kClip}}}}}),
      Variant("wan/2-7-r2v", {{"prompt", "image1 waves"}, {"reference_image", {kPicture}}},
              "1-5 references, images and videos together; reference_voice is the voice of the first video "
              "reference, else of the first image.",
              {{{"model", "wan/2-7-r2v"},
                {"input", {{"prompt", "video1 talks"}, {"reference_video", {kClip}}, {"first_frame", kPicture},
                           {"reference_voice", kVoice}}}}}),
      Variant("wan/2-7-videoedit", {{"prompt", "in clay"}, {"video_url", kClip}},
              "duration 0 keeps the input's length (at most 10 s); 1 is refused. audio_setting may also be "
              "{\"mode\": \"auto\"|\"origin\"}.",
              {{{"model", "wan/2-7-videoedit"},
                {"input", {{"prompt", "in clay"}, {"video_url", kClip}, {"reference_image", {kPicture}}}}}}),
  };
}

// kie answers every business outcome with HTTP 200 and an envelope: code 200 is success;
// 401, 402, 404, 422, 429, 455, 500, 501 and 505 say why not.
json Envelope(json data) {
  return {{"type", "object"},
          {"required", {"code", "msg"}},
          {"properties",
           {{"code", {{"type", "integer"}, {"description", "200 on success; else 401, 402, 404, 409, 422, 429, 455, 500, 501 or 505"}}},
            {"msg", {{"type", "string"}, {"description", "on a refusal, names the field first: \"input.duration: …\""}}},
            {"data", std::move(data)}}}};
}

json Answer(json data) { return {{"200", JsonAnswer("the envelope: code 200, or the refusal's code", Envelope(std::move(data)))}}; }

json TaskIdParameter() {
  return {{"name", "taskId"}, {"in", "query"}, {"required", true}, {"schema", {{"type", "string"}}}};
}

}  // namespace

Result<json> OpenApiDocument(const std::string& server_url) {
  json doc = NewDocument({"market", "wanserve: market API (kie style)",
                          "Asynchronous Wan 2.7 generation in kie's shape: createTask, then poll "
                          "recordInfo?taskId=… or receive the record at callBackUrl.",
                          server_url});
  const auto variants = Variants();
  ASSIGN_OR_RETURN(json schema, RequestSchema(variants));
  for (auto& shape : schema["oneOf"]) shape["properties"]["callBackUrl"]["description"] = "also callbackUrl or callback_url";
  json& paths = doc["paths"];
  paths["/api/v1/jobs/createTask"] = {
      {"post", {{"summary", "Create a generation task"}, {"parameters", {IdempotencyKeyParameter()}},
                {"requestBody", JsonBody(schema, variants.front().example)},
                {"responses", Answer({{"type", "object"}, {"properties", {{"taskId", {{"type", "string"}}}}}})}}}};
  paths["/api/v1/jobs/recordInfo"] = {
      {"get", {{"summary", "A task's record: state (waiting, generating, success, fail), resultJson, failCode"},
               {"parameters", {TaskIdParameter()}},
               {"responses", Answer({{"type", "object"}, {"properties", {{"state", {{"type", "string"}}}}}})}}}};
  paths["/api/v1/jobs/cancelTask"] = {
      {"post", {{"summary", "Cancel a waiting or generating task"}, {"parameters", {TaskIdParameter()}},
                {"responses", Answer({{"type", "object"}})}}}};
  paths["/api/v1/chat/credit"] = {
      {"get", {{"summary", "Credits this key may still spend"}, {"responses", Answer({{"type", "integer"}})}}}};
  paths["/api/v1/common/download-url"] = {
      {"post", {{"summary", "A 20-minute link to one of this server's output links"},
                {"requestBody",
                 JsonBody({{"type", "object"}, {"required", {"url"}},
                           {"properties", {{"url", {{"type", "string"}, {"format", "uri"}}}}}},
                          nullptr)},
                {"responses", Answer({{"type", "string"}, {"format", "uri"}})}}}};
  AddFilePaths(paths);
  return doc;
}

}  // namespace wanserve::api::dialects::market
