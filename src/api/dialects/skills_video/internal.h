#pragma once
// Parse and render functions of the skills_video dialect, separate from HTTP so they can be
// tested directly.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "api/api_context.h"
#include "api/dialects/fields.h"
#include "api/http.h"
#include "core/task.h"

namespace wanserve::api::dialects::skills_video {

using nlohmann::json;

enum class Endpoint { kImage, kImagePro, kEditVideo, kVideo };

struct Parsed {
  core::GenerationRequest request;
  json echo;  // the normalized `input` echo
};

// Multipart bodies carry every value as a string; `leniency` lets numbers through as such.
Result<Parsed> Parse(Endpoint endpoint, const json& body, Leniency leniency = {});
Result<Parsed> ParseVideo(const json& body, Leniency leniency);

// "IMAGE_GENERATION" or "VIDEO_GENERATION".
std::string_view Family(bool video);
HttpResponse RenderError(const Error& error, std::string_view family);
json RenderGeneration(const core::Task& task, const ApiContext& ctx);
std::string NewId();
// The dialect's OpenAPI document; kInternal when an example of it no longer parses.
Result<json> OpenApiDocument(const std::string& server_url);

}  // namespace wanserve::api::dialects::skills_video
