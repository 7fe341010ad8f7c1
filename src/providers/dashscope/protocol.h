#pragma once
// DashScope's wire format for Wan 2.7, without any I/O: what the provider sends and how it
// reads the answers. Kept apart so the mapping can be tested field by field.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "common/error.h"
#include "core/request.h"
#include "providers/provider.h"

namespace wanserve::providers::dashscope {

struct CreateCall {
  std::string path;  // below the base URL, e.g. "/services/aigc/video-generation/video-synthesis"
  nlohmann::json body;
};

CreateCall BuildCreate(const core::GenerationRequest& request);

// Our error for a DashScope error code (HTTP status when the body has none). Refusals of this
// server's own account (key, model access, arrears) get the provider_* detail codes of
// provider.h; otherwise the upstream code is kept as the detail code.
Error MapError(long http_status, const std::string& code, const std::string& message);

// The error a non-200 answer carries ({request_id, code, message}, or a bare HTTP failure).
Error ParseFailure(long http_status, std::string_view body);
// The create answer's task id, or the error it carries.
Result<std::string> ParseCreated(long http_status, std::string_view body);
// A query answer (GET /tasks/{id}).
Result<UpstreamStatus> ParseTask(long http_status, std::string_view body);

}  // namespace wanserve::providers::dashscope
