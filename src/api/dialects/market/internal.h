#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "api/api_context.h"
#include "api/http.h"
#include "core/task.h"

namespace wanserve::api::dialects::market {

using nlohmann::json;

struct Parsed {
  core::GenerationRequest request;
  std::string model_alias;  // "wan/2-7-image", ...
  json param;               // {model, callBackUrl, input} as recordInfo echoes it
};

Result<Parsed> Parse(const json& body);

// Business errors travel in the envelope's code with HTTP 200, as kie's clients expect.
HttpResponse RenderError(const Error& error);
int EnvelopeCode(ErrorCode code);
json RenderRecord(const core::Task& task, const ApiContext& ctx);
// waiting, generating, success, fail.
std::string_view StateName(core::TaskState state);
std::string NewId(int64_t now_ms);
// The dialect's OpenAPI document; kInternal when an example of it no longer parses.
Result<json> OpenApiDocument(const std::string& server_url);
// The document's file uploads (files_openapi.cpp).
void AddFilePaths(json& paths);

}  // namespace wanserve::api::dialects::market
