#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "api/api_context.h"
#include "api/http.h"
#include "core/task.h"

namespace wanserve::api::dialects::dashscope {

using nlohmann::json;

// The create bodies, with DashScope's defaults applied.
Result<core::GenerationRequest> ParseVideo(const json& body);
Result<core::GenerationRequest> ParseImage(const json& body);

HttpResponse RenderError(const Error& error);
json RenderTask(const core::Task& task, const ApiContext& ctx);
// A task id this dialect does not know: HTTP 200 with task_status UNKNOWN, as DashScope answers.
json RenderUnknown(const std::string& id);
// A UUID: task ids and request ids.
std::string NewId();

}  // namespace wanserve::api::dialects::dashscope
