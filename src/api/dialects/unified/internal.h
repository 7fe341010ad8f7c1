#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "api/api_context.h"
#include "api/http.h"
#include "core/task.h"

namespace wanserve::api::dialects::unified {

using nlohmann::json;

struct Parsed {
  core::GenerationRequest request;
  std::string model_alias;  // as sent: "wan-2.7-image", "wan2.7-text-to-video", ...
};

Result<Parsed> ParseImage(const json& body);
Result<Parsed> ParseVideo(const json& body);

HttpResponse RenderError(const Error& error);
// POST /v1/files (raw body or multipart/form-data).
HttpResponse Upload(const ApiContext& ctx, const HttpRequest& req, const std::string& key_id);
json RenderTask(const core::Task& task, const ApiContext& ctx);
std::string NewId(int64_t unix_seconds);
// The dialect's OpenAPI document; kInternal when an example of it no longer parses.
Result<json> OpenApiDocument(const std::string& server_url);
// The document's uploads, credits and EvoLink files operations (files_openapi.cpp).
void AddFilePaths(json& paths);
// Each model id the dialect takes, with the request an example of it parses to.
struct ModelExample {
  std::string id;
  core::GenerationRequest request;
};
std::vector<ModelExample> ModelExamples();
bool IsValidId(const std::string& id);

}  // namespace wanserve::api::dialects::unified
