// The unified dialect's OpenAPI document and model list, from its parsers (api/openapi.h).
#include "api/dialects/unified/internal.h"
#include "api/openapi.h"

namespace wanserve::api::dialects::unified {
namespace {

using namespace examples;  // NOLINT(google-build-using-namespace): the example URLs


json ModelIds(std::initializer_list<const char*> ids) { return {{"type", "string"}, {"enum", ids}}; }

constexpr auto ImageParse = Parses<ParseImage>;
constexpr auto VideoParse = Parses<ParseVideo>;

const json kSizeSchema = {
    {"oneOf",
     {{{"type", "string"},
       {"enum", {"square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}},
       {"default", "square_hd"}},
      {{"type", "object"},
       {"required", {"width", "height"}},
       {"properties",
        {{"width", {{"type", "integer"}, {"minimum", 256}, {"maximum", 4096}}},
         {"height", {{"type", "integer"}, {"minimum", 256}, {"maximum", 4096}}}}}}}}};

std::vector<BodyVariant> ImageVariants() {
  return {{"wan-2.7-image",
           {{"model", "wan-2.7-image"}, {"prompt", "a lighthouse at dusk"}, {"size", {{"width", 1024}, {"height", 576}}}},
           ImageParse,
           {{"model", ModelIds({"wan-2.7-image", "wan-2.7-image-pro"})}, {"size", kSizeSchema}},
           "Text to image, or an edit of 1-4 pictures when image_urls is sent (then n is at most 4).",
           {{{"model", "wan-2.7-image"}, {"prompt", "in watercolour"}, {"image_urls", {kPicture}}, {"n", 2},
             {"callback_url", kHook}}}}};
}

std::vector<BodyVariant> VideoVariants() {
  return {
      {"wan2.7-text-to-video",
       {{"model", "wan2.7-text-to-video"}, {"prompt", "a boat on a lake"}, {"duration", 5}},
       VideoParse,
       {{"model", ModelIds({"wan2.7-text-to-video"})}},
       "",
       {{{"model", "wan2.7-text-to-video"}, {"prompt", "a boat"}, {"audio_urls", {kVoice}}, {"callback_url", kHook}}}},
      {"wan2.7-image-to-video",
       {{"model", "wan2.7-image-to-video"}, {"prompt", "the boat sails off"}, {"image_start", kPicture}},
       VideoParse,
       {{"model", ModelIds({"wan2.7-image-to-video", "wan2.7-i2v"})}},
       "generation_mode first_frame needs image_start; first_last_frame needs image_start and image_end; "
       "video_continuation needs one clip in video_urls and takes no image_start or driving audio. Without a mode, "
       "a clip means video_continuation, two frames first_last_frame, one first_frame.",
       {{{"model", "wan2.7-image-to-video"}, {"image_start", kPicture}, {"image_end", kPicture},
         {"audio_urls", {kVoice}}, {"callback_url", kHook}},
        {{"model", "wan2.7-image-to-video"}, {"generation_mode", "video_continuation"}, {"video_urls", {kClip}}}}},
      {"wan2.7-reference-video",
       {{"model", "wan2.7-reference-video"}, {"prompt", "image1 waves"}, {"image_urls", {kPicture}}},
       VideoParse,
       {{"model", ModelIds({"wan2.7-reference-video", "wan2.7-r2v"})},
        {"model_params",
         {{"type", "object"},
          {"properties",
           {{"voice_bindings",
             {{"type", "object"},
              {"maxProperties", 5},
              {"propertyNames", {{"pattern", "^(image|video)[1-9][0-9]{0,4}$"}}},
              {"additionalProperties", {{"type", "string"}, {"format", "uri"}}}}}}}}}},
       "1-5 references, images and videos together; with reference videos duration is at most 10. Voices bind "
       "by model_params.voice_bindings (imageN/videoN to a URL), or by position through audio_urls (videos "
       "first, then images).",
       {{{"model", "wan2.7-reference-video"}, {"prompt", "video1 talks"}, {"video_urls", {kClip}},
         {"image_start", kPicture}, {"audio_urls", {kVoice}}, {"callback_url", kHook}}}},
      {"wan2.7-video-edit",
       {{"model", "wan2.7-video-edit"}, {"prompt", "in clay"}, {"video_urls", {kClip}}},
       VideoParse,
       {{"model", ModelIds({"wan2.7-video-edit", "wan2.7-videoedit"})}},
       "duration 0 keeps the input's length (at most 10 s); 1 is refused.",
       {{{"model", "wan2.7-video-edit"}, {"video_urls", {kClip}}, {"image_urls", {kPicture}}, {"callback_url", kHook}}}},
  };
}

const json kTask = {
    {"type", "object"},
    {"required", {"id", "object", "model", "status", "progress", "created"}},
    {"properties",
     {{"id", {{"type", "string"}, {"pattern", "^task-unified-[0-9]+-[a-z0-9]{8}$"}}},
      {"object", {{"type", "string"}, {"enum", {"image.generation.task", "video.generation.task"}}}},
      {"model", {{"type", "string"}}},
      {"status", {{"type", "string"}, {"enum", {"pending", "processing", "completed", "failed"}}}},
      {"progress", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}},
      {"created", {{"type", "integer"}}},
      {"type", {{"type", "string"}, {"enum", {"image", "video"}}}},
      {"results",
       {{"type", "array"},
        {"items", {{"type", "string"}, {"format", "uri"}}},
        {"description", "signed links, valid 24 h after completion"}}},
      {"error",
       {{"type", "object"},
        {"properties",
         {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}, {"type", {{"type", "string"}}}}}}},
      {"task_info", {{"type", "object"}}},
      {"usage", {{"type", "object"}}}}}};

const json kError = {
    {"type", "object"},
    {"required", {"error"}},
    {"properties",
     {{"error",
       {{"type", "object"},
        {"required", {"code", "message", "type"}},
        {"properties",
         {{"code", {{"type", "string"}}},
          {"message", {{"type", "string"}}},
          {"type", {{"type", "string"}}},
          {"param", {{"type", {"string", "null"}}}}}}}}}}};

// The answers of an operation: 200 with `ok`, the dialect's errors otherwise.
json Answers(const json& ok, bool submit) {
  json out = {{"200", JsonAnswer("OK", ok)},
              {"400", JsonAnswer("a field breaks a rule; error.param names it", Ref("Error"))},
              {"401", JsonAnswer("no API key, or a wrong or revoked one", Ref("Error"))},
              {"404", JsonAnswer("no such task for this key", Ref("Error"))}};
  if (submit) {
    out["402"] = JsonAnswer("not enough credits", Ref("Error"));
    out["409"] = JsonAnswer("the Idempotency-Key was used for another request", Ref("Error"));
    out["429"] = JsonAnswer("rate or concurrency limit; Retry-After says when", Ref("Error"));
  }
  return out;
}

json SubmitOperation(const std::string& summary, json body_schema, const json& example) {
  return {{"post",
           {{"summary", summary},
            {"parameters", {IdempotencyKeyParameter()}},
            {"requestBody", JsonBody(std::move(body_schema), example)},
            {"responses", Answers(Ref("Task"), true)}}}};
}

}  // namespace

Result<json> OpenApiDocument(const std::string& server_url) {
  json doc = NewDocument({"unified", "wanserve: unified API (EvoLink style)",
                          "Asynchronous Wan 2.7 image and video generation: submit, then poll /v1/tasks/{task_id} "
                          "or receive the task at callback_url.",
                          server_url});
  doc["components"]["schemas"]["Task"] = kTask;
  doc["components"]["schemas"]["Error"] = kError;
  const auto images = ImageVariants();
  const auto videos = VideoVariants();
  ASSIGN_OR_RETURN(json image_schema, RequestSchema(images));
  ASSIGN_OR_RETURN(json video_schema, RequestSchema(videos));
  json& paths = doc["paths"];
  paths["/v1/images/generations"] = SubmitOperation("Generate or edit images", image_schema, images[0].example);
  paths["/v1/videos/generations"] = SubmitOperation("Generate or edit a video", video_schema, videos[0].example);
  const json task_id = PathParameter("task_id");
  paths["/v1/tasks/{task_id}"] = {
      {"get", {{"summary", "A task's status, progress and results"}, {"parameters", {task_id}},
               {"responses", Answers(Ref("Task"), false)}}}};
  const json limit = {{"name", "limit"}, {"in", "query"}, {"required", false},
                      {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 20}}}};
  paths["/v1/tasks"] = {
      {"get", {{"summary", "This key's recent tasks in any state, newest first (wanserve's own)"},
               {"parameters", {limit}},
               {"responses", {{"200", JsonAnswer("OK", {{"type", "object"},
                                                        {"properties", {{"object", {{"const", "list"}}},
                                                                        {"data", {{"type", "array"}, {"items", Ref("Task")}}}}}})},
                              {"400", JsonAnswer("a bad limit", Ref("Error"))}}}}}};
  paths["/v1/tasks/{task_id}/cancel"] = {
      {"post", {{"summary", "Cancel a queued or running task (409 once finished)"}, {"parameters", {task_id}},
                {"responses", Answers(Ref("Task"), false)}}}};
  paths["/v1/models"] = {
      {"get", {{"summary", "The models, what each makes and at which sizes this server generates them"},
               {"responses", {{"200", JsonAnswer("OK", {{"type", "object"}})}}}}}};
  AddFilePaths(paths);
  return doc;
}

std::vector<ModelExample> ModelExamples() {
  std::vector<ModelExample> out;
  auto add = [&](const std::vector<BodyVariant>& variants, Result<Parsed> (*parse)(const json&)) {
    for (const auto& v : variants) {
      for (const auto& id : v.properties["model"]["enum"]) {
        json body = v.example;
        body["model"] = id;
        auto parsed = parse(body);
        if (parsed.ok()) out.push_back({id.get<std::string>(), parsed->request});
      }
    }
  };
  add(ImageVariants(), ParseImage);
  add(VideoVariants(), ParseVideo);
  return out;
}

}  // namespace wanserve::api::dialects::unified
