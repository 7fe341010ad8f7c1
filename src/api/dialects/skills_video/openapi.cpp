// The skills_video dialect's OpenAPI document, from its parsers (api/openapi.h).
#include "api/dialects/skills_video/internal.h"
#include "api/openapi.h"

namespace wanserve::api::dialects::skills_video {
namespace {

using namespace examples;  // NOLINT(google-build-using-namespace): the example URLs


template <Endpoint E>
Result<Parsed> ParseAt(const json& body) {
  return Parse(E, body);
}

json Spellings(std::initializer_list<const char*> names) { return {{"type", "string"}, {"enum", names}}; }

BodyVariant Image(bool pro) {
  const std::string title = pro ? "wan-v2.7-pro" : "wan-v2.7";
  json example = {{"prompt", "a lighthouse at dusk"}, {"aspect_ratio", "16:9"}};
  json edit = {{"prompt", "in watercolour"}, {"image_urls", {kPicture}}, {"n", 2}, {"seed", 7},
               {"negative_prompt", "blur"}, {"num_images", 2}};
  if (pro) example["image_size"] = "landscape_16_9";
  return {title,
          example,
          pro ? Parses<ParseAt<Endpoint::kImagePro>> : Parses<ParseAt<Endpoint::kImage>>,
          json::object(),
          "Text to image, or an edit of 1-4 image_urls (each at least 384x384). n and num_images (and, on pro, "
          "max_images, text to image only) ask for several results; the largest wins: at most 5, 4 when editing.",
          pro ? std::vector<json>{edit, {{"prompt", "a cat"}, {"max_images", 3}, {"enable_prompt_expansion", false},
                                         {"enable_safety_checker", true}}}
              : std::vector<json>{edit}};
}

BodyVariant EditVideo() {
  return {"edit-video",
          {{"prompt", "in clay"}, {"video_url", kClip}},
          Parses<ParseAt<Endpoint::kEditVideo>>,
          json::object(),
          "duration 0 keeps the input's length (at most 10 s); 1 is refused.",
          {{{"prompt", "in clay"}, {"video_url", kClip}, {"reference_image_url", kPicture}, {"seed", 1}}}};
}

std::vector<BodyVariant> VideoFeatures() {
  const auto parse = Parses<ParseAt<Endpoint::kVideo>>;
  return {
      {"text-image",
       {{"prompt", "a boat on a lake"}, {"duration", 5}},
       parse,
       {{"feature", Spellings({"text-image"})}},
       "Text to video; image to video with image_url (a first frame) or video_url (a clip to continue), "
       "either with an optional driving audio_url.",
       {{{"prompt", "it sails"}, {"image_url", kPicture}, {"audio_url", kVoice}, {"seed", 3},
         {"negative_prompt", "blur"}, {"enable_prompt_expansion", false}}}},
      {"frames",
       {{"feature", "frames"}, {"image_url", kPicture}, {"end_image_url", kLast}},
       parse,
       {{"feature", Spellings({"frames", "frames-to-video"})}},
       "From a first frame (image_url) to a last one (end_image_url).",
       {},
       {"feature"}},
      {"reference",
       {{"feature", "reference"}, {"prompt", "image1 waves"}, {"reference_image_urls", {kPicture}}},
       parse,
       {{"feature", Spellings({"reference", "reference-to-video"})}},
       "1-5 references, reference_image_urls and video_refs together; with video_refs duration is at most 10.",
       {{{"feature", "reference"}, {"prompt", "video1 talks"}, {"video_refs", {kClip}}, {"multi_shots", true}}},
       {"feature"}},
      {"edit-video",
       {{"feature", "edit-video"}, {"prompt", "in clay"}, {"video_url", kClip}},
       parse,
       {{"feature", Spellings({"edit-video", "edit_video"})}},
       "duration 0 keeps the input's length (at most 10 s); 1 is refused. The reference is "
       "reference_image_urls[0] or reference_image_url (they must agree).",
       {{{"feature", "edit-video"}, {"prompt", "in clay"}, {"video_url", kClip}, {"reference_image_url", kPicture}}},
       {"feature"}},
  };
}

const json kGeneration = {
    {"type", "object"},
    {"required", {"id", "status", "progress", "created_at"}},
    {"properties",
     {{"id", {{"type", "string"}, {"pattern", "^gen_[a-z0-9]{24}$"}}},
      {"status", {{"type", "string"}, {"enum", {"IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED"}}}},
      {"input", {{"type", "object"}, {"description", "the request as understood, defaults filled in"}}},
      {"progress", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}},
      {"created_at", {{"type", "string"}, {"format", "date-time"}}},
      {"completed_at", {{"type", "string"}, {"format", "date-time"}}},
      {"expires_at", {{"type", "string"}, {"format", "date-time"}, {"description", "when the links stop working"}}},
      {"usage", {{"type", "object"}}},
      {"data", {{"type", {"object", "null"}}, {"description", "images or videos with url, size and type, once done"}}},
      {"code", {{"type", "string"}}},
      {"message", {{"type", "string"}}}}}};

const json kError = {{"type", "object"},
                     {"required", {"error", "code", "message"}},
                     {"properties",
                      {{"error", {{"type", "string"}}},
                       {"code", {{"type", "string"}, {"description", "IMAGE_GENERATION_… or VIDEO_GENERATION_…"}}},
                       {"message", {{"type", "string"}, {"description", "names the field first: \"duration: …\""}}}}}};

json Answers() {
  return {{"200", JsonAnswer("OK", Ref("Generation"))},
          {"400", JsonAnswer("a field breaks a rule; the message names it", Ref("Error"))},
          {"401", JsonAnswer("no API key, or a wrong or revoked one", Ref("Error"))},
          {"402", JsonAnswer("not enough credits", Ref("Error"))},
          {"404", JsonAnswer("no such generation for this key", Ref("Error"))},
          {"429", JsonAnswer("rate or concurrency limit; Retry-After says when", Ref("Error"))}};
}

json EventStream(const std::string& description) {
  return {{"200", {{"description", description}, {"content", {{"text/event-stream", {{"schema", {{"type", "string"}}}}}}}}}};
}

}  // namespace

Result<json> OpenApiDocument(const std::string& server_url) {
  json doc = NewDocument({"skills_video", "wanserve: skills.video API",
                          "Asynchronous Wan 2.7 generation in skills.video's shape: create, then poll "
                          "/api/v1/generation/{id}, or create under /api/v1/generation/sse/… and read the events. "
                          "Create bodies may also be multipart/form-data, files uploaded in place.",
                          server_url});
  doc["components"]["schemas"]["Generation"] = kGeneration;
  doc["components"]["schemas"]["Error"] = kError;
  json& paths = doc["paths"];
  struct Create {
    std::string path;
    std::string summary;
    std::vector<BodyVariant> variants;
  };
  const std::vector<Create> creates = {{"wan/wan-v2.7", "Generate or edit images", {Image(false)}},
                                       {"wan/wan-v2.7-pro", "Generate or edit images (pro)", {Image(true)}},
                                       {"wan/wan-v2.7/edit-video", "Edit a video", {EditVideo()}},
                                       {"wan/wan-v2.7-video", "Make a video: text, image, frames, reference or edit",
                                        VideoFeatures()}};
  for (const auto& create : creates) {
    ASSIGN_OR_RETURN(json schema, RequestSchema(create.variants));
    const json body = JsonBody(schema, create.variants.front().example);
    paths["/api/v1/generation/" + create.path] = {
        {"post", {{"summary", create.summary}, {"parameters", {IdempotencyKeyParameter()}}, {"requestBody", body},
                  {"responses", Answers()}}}};
    paths["/api/v1/generation/sse/" + create.path] = {
        {"post", {{"summary", create.summary + ", answered as server-sent events until the task ends"},
                  {"parameters", {IdempotencyKeyParameter()}}, {"requestBody", body},
                  {"responses", EventStream("created, progress and the final generation as events")}}}};
  }
  const json id = PathParameter("id");
  paths["/api/v1/generation/{id}"] = {
      {"get", {{"summary", "A generation's status, progress and results"}, {"parameters", {id}}, {"responses", Answers()}}}};
  paths["/api/v1/generation/{id}/events"] = {
      {"get", {{"summary", "The generation's progress as server-sent events"}, {"parameters", {id}},
               {"responses", EventStream("progress and the final generation")}}}};
  paths["/api/v1/generation/{id}/cancel"] = {
      {"post", {{"summary", "Cancel a queued or running generation"}, {"parameters", {id}}, {"responses", Answers()}}}};
  const json running = {{"type", "array"},
                        {"items", {{"type", "object"}, {"required", {"id", "status", "progress"}}}}};
  const json limit = {{"name", "limit"}, {"in", "query"}, {"required", false},
                      {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}, {"default", 50}}}};
  paths["/api/v1/generations/running"] = {
      {"get", {{"summary", "This key's queued and running generations"}, {"parameters", {limit}},
               {"responses", {{"200", JsonAnswer("OK", running)}, {"400", JsonAnswer("a bad limit", Ref("Error"))}}}}}};
  paths["/api/v1/credits"] = {
      {"get", {{"summary", "Credits left and spent"}, {"responses", {{"200", JsonAnswer("OK", {{"type", "object"}})}}}}}};
  return doc;
}

}  // namespace wanserve::api::dialects::skills_video
