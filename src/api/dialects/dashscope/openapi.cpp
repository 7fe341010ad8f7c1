// The DashScope dialect's OpenAPI document, from its parsers (api/openapi.h). input.media and
// input.messages are read by hand, so their schemas are written here beside the examples.
#include "api/dialects/dashscope/internal.h"
#include "api/openapi.h"

namespace wanserve::api::dialects::dashscope {
namespace {

using namespace examples;  // NOLINT(google-build-using-namespace): the example URLs


json Media(std::initializer_list<const char*> types, bool voices) {
  json item = {{"type", "object"},
               {"required", {"type", "url"}},
               {"properties", {{"type", {{"type", "string"}, {"enum", types}}}, {"url", {{"type", "string"}, {"format", "uri"}}}}}};
  if (voices) item["properties"]["reference_voice"] = {{"type", "string"}, {"format", "uri"}};
  return {{"type", "array"}, {"minItems", 1}, {"items", std::move(item)}};
}

json MediaItem(const char* type, const char* url) { return {{"type", type}, {"url", url}}; }

json DatedIds(const char* model) { return {{"type", "string"}, {"enum", {model, std::string(model) + "-2026-04-25"}}}; }

BodyVariant Video(const char* model, json input, json media_schema, std::string description, std::vector<json> more) {
  json properties = {{"model", DatedIds(model)}};
  if (!media_schema.is_null()) properties["input.media"] = std::move(media_schema);
  return {model,
          {{"model", model}, {"input", std::move(input)}, {"parameters", {{"duration", 5}}}},
          Parses<ParseVideo>,
          std::move(properties),
          std::move(description),
          std::move(more),
          {"input"}};
}

std::vector<BodyVariant> VideoVariants() {
  return {
      Video("wan2.7-t2v", {{"prompt", "a boat on a lake"}}, nullptr, "input.media is not taken.",
            {{{"model", "wan2.7-t2v"},
              {"input", {{"prompt", "a boat"}, {"negative_prompt", "blur"}, {"audio_url", kVoice}}},
              {"parameters", {{"resolution", "720P"}, {"ratio", "9:16"}, {"prompt_extend", false}, {"watermark", true},
                              {"seed", 3}}}}}),
      Video("wan2.7-i2v", {{"prompt", "it sails off"}, {"media", {MediaItem("first_frame", kPicture)}}},
            Media({"first_frame", "last_frame", "driving_audio", "first_clip"}, false),
            "Each media type at most once: a first_frame, with a last_frame and/or driving_audio; or a first_clip "
            "to continue, with a last_frame. The first frame's (or the clip's) ratio is kept.",
            {{{"model", "wan2.7-i2v"},
              {"input", {{"media", {MediaItem("first_frame", kPicture), MediaItem("last_frame", kLast)}}}}}}),
      Video("wan2.7-r2v", {{"prompt", "image1 waves"}, {"media", {MediaItem("reference_image", kPicture)}}},
            Media({"reference_image", "reference_video", "first_frame"}, true),
            "1-5 reference_image and reference_video elements together (each may carry its reference_voice), at "
            "most one first_frame; with reference videos duration is at most 10.",
            {{{"model", "wan2.7-r2v"},
              {"input", {{"prompt", "video1 talks"}, {"media", {{{"type", "reference_video"}, {"url", kClip},
                                                                 {"reference_voice", kVoice}}}}}},
              {"parameters", {{"aspect_ratio", "1:1"}}}}}),
      Video("wan2.7-videoedit", {{"prompt", "in clay"}, {"media", {MediaItem("video", kClip)}}},
            Media({"video", "reference_image"}, false),
            "Exactly one video and up to 4 reference images. duration 0 keeps the input's length (at most 10 s); "
            "1 is refused.",
            {{{"model", "wan2.7-videoedit"},
              {"input", {{"media", {MediaItem("video", kClip), MediaItem("reference_image", kPicture)}}}},
              {"parameters", {{"duration", 0}, {"audio_setting", "origin"}}}}}),
  };
}

json Messages() {
  const json text = {{"type", "object"},
                     {"required", {"text"}},
                     {"properties", {{"text", {{"type", "string"}, {"minLength", 1}, {"maxLength", 5000}}}}}};
  const json image = {{"type", "object"},
                      {"required", {"image"}},
                      {"properties", {{"image", {{"type", "string"}, {"format", "uri"}}}}}};
  const json content = {{"type", "array"}, {"minItems", 1}, {"maxItems", 10}, {"items", {{"oneOf", {text, image}}}}};
  const json message = {{"type", "object"},
                        {"required", {"role", "content"}},
                        {"properties", {{"role", {{"type", "string"}, {"const", "user"}}}, {"content", content}}}};
  return {{"type", "array"}, {"minItems", 1}, {"maxItems", 1}, {"items", message}};
}

json Prompt(const char* text, std::initializer_list<const char*> images = {}) {
  json content = json::array({{{"text", text}}});
  for (const char* image : images) content.push_back({{"image", image}});
  return {{"messages", {{{"role", "user"}, {"content", std::move(content)}}}}};
}

std::vector<BodyVariant> ImageVariants() {
  return {{"wan2.7-image",
           {{"model", "wan2.7-image"}, {"input", Prompt("a lighthouse at dusk")}, {"parameters", {{"size", "2K"}}}},
           Parses<ParseImage>,
           {{"model", {{"type", "string"}, {"enum", {"wan2.7-image", "wan2.7-image-pro"}}}},
            {"input.messages", Messages()},
            {"parameters.size",
             {{"type", "string"},
              {"pattern", "^(1K|2K|4K|[0-9]{3,4}\\*[0-9]{3,4})$"},
              {"default", "2K"},
              {"description", "1K, 2K, or W*H with sides of 512-4096; 4K is wan2.7-image-pro's text to image alone"}}}},
           "One user message: exactly one text and, for an edit, up to 9 images. With enable_sequential, n is 1-12.",
           {{{"model", "wan2.7-image"},
             {"input", Prompt("in watercolour", {kPicture})},
             {"parameters", {{"n", 2}, {"watermark", true}, {"seed", 5}}}},
            {{"model", "wan2.7-image-pro"},
             {"input", Prompt("a comic")},
             {"parameters", {{"enable_sequential", true}, {"n", 6}, {"thinking_mode", false}}}}},
           {"input"}}};
}

const json kTask = {
    {"type", "object"},
    {"required", {"request_id", "output"}},
    {"properties",
     {{"request_id", {{"type", "string"}}},
      {"output",
       {{"type", "object"},
        {"required", {"task_id", "task_status"}},
        {"properties",
         {{"task_id", {{"type", "string"}}},
          {"task_status",
           {{"type", "string"}, {"enum", {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}}}},
          {"submit_time", {{"type", "string"}, {"description", "YYYY-MM-DD HH:MM:SS.mmm, Beijing time"}}},
          {"video_url", {{"type", "string"}, {"format", "uri"}}},
          {"choices", {{"type", "array"}}},
          {"code", {{"type", "string"}}},
          {"message", {{"type", "string"}}}}}}},
      {"usage", {{"type", "object"}}}}}};

const json kError = {{"type", "object"},
                     {"required", {"request_id", "code", "message"}},
                     {"properties",
                      {{"request_id", {{"type", "string"}}},
                       {"code", {{"type", "string"}, {"description", "InvalidParameter, InvalidApiKey, Arrearage, Throttling, …"}}},
                       {"message", {{"type", "string"}, {"description", "names the field first: \"parameters.duration: …\""}}}}}};

json Answers() {
  return {{"200", JsonAnswer("OK", Ref("Task"))},
          {"400", JsonAnswer("a field breaks a rule; the message names it", Ref("Error"))},
          {"401", JsonAnswer("no API key, or a wrong or revoked one", Ref("Error"))},
          {"403", JsonAnswer("not enough credits (Arrearage)", Ref("Error"))},
          {"429", JsonAnswer("rate or concurrency limit (Throttling); Retry-After says when", Ref("Error"))}};
}

json Create(const std::string& summary, const std::vector<BodyVariant>& variants, json schema) {
  const json async = {{"name", "X-DashScope-Async"}, {"in", "header"}, {"required", true},
                      {"schema", {{"type", "string"}, {"enum", {"enable"}}}},
                      {"description", "these models run asynchronously only"}};
  const json oss = {{"name", "X-DashScope-OssResourceResolve"}, {"in", "header"}, {"required", false},
                    {"schema", {{"type", "string"}, {"enum", {"enable"}}}},
                    {"description", "lets media URLs name oss:// files of the temporary storage (/api/v1/uploads)"}};
  return {{"post", {{"summary", summary}, {"parameters", {async, oss, IdempotencyKeyParameter()}},
                    {"requestBody", JsonBody(std::move(schema), variants.front().example)},
                    {"responses", Answers()}}}};
}

}  // namespace

Result<json> OpenApiDocument(const std::string& server_url) {
  json doc = NewDocument({"dashscope", "wanserve: DashScope API",
                          "Asynchronous Wan 2.7 generation in Alibaba Cloud DashScope's shape: create with "
                          "X-DashScope-Async: enable, then poll /api/v1/tasks/{task_id}.",
                          server_url});
  doc["components"]["schemas"]["Task"] = kTask;
  doc["components"]["schemas"]["Error"] = kError;
  const auto videos = VideoVariants();
  const auto images = ImageVariants();
  ASSIGN_OR_RETURN(json video_schema, RequestSchema(videos));
  ASSIGN_OR_RETURN(json image_schema, RequestSchema(images));
  json& paths = doc["paths"];
  paths["/api/v1/services/aigc/video-generation/video-synthesis"] =
      Create("Make a video: text, image, reference or edit", videos, video_schema);
  paths["/api/v1/services/aigc/image-generation/generation"] = Create("Generate or edit images", images, image_schema);
  const json task_id = PathParameter("task_id");
  paths["/api/v1/tasks/{task_id}"] = {
      {"get", {{"summary", "A task's status and results (UNKNOWN for an id this server does not know)"},
               {"parameters", {task_id}}, {"responses", Answers()}}}};
  paths["/api/v1/tasks/{task_id}/cancel"] = {
      {"post", {{"summary", "Cancel a PENDING task"}, {"parameters", {task_id}}, {"responses", Answers()}}}};
  AddUploadPaths(paths);
  return doc;
}

}  // namespace wanserve::api::dialects::dashscope
