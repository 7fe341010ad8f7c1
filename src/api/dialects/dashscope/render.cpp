#include <fmt/format.h>

#include <cmath>

#include "api/dialects/dashscope/dashscope.h"
#include "api/dialects/dashscope/internal.h"
#include "common/crypto.h"
#include "common/time_format.h"
#include "tasks/task_service.h"

namespace wanserve::api::dialects::dashscope {
namespace {

struct WireError {
  int http;
  std::string_view code;
};

WireError WireFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kInvalidId:
    case ErrorCode::kUnsupportedModel: return {400, "InvalidParameter"};
    case ErrorCode::kUnauthorized: return {401, "InvalidApiKey"};
    case ErrorCode::kForbidden: return {403, "AccessDenied"};
    case ErrorCode::kNotFound: return {404, "NotFound"};
    case ErrorCode::kConflict:
    case ErrorCode::kCanceled: return {400, "UnsupportedOperation"};
    case ErrorCode::kPayloadTooLarge: return {413, "RequestTooLarge"};
    case ErrorCode::kInsufficientCredits: return {400, "Arrearage"};
    case ErrorCode::kRateLimited: return {429, "Throttling.RateQuota"};
    case ErrorCode::kContentRejected: return {400, "DataInspectionFailed"};
    case ErrorCode::kUnavailable: return {503, "ServiceUnavailable"};
    case ErrorCode::kUpstreamFailed:
    case ErrorCode::kTimeout:
    case ErrorCode::kInternal: return {500, "InternalError"};
  }
  return {500, "InternalError"};
}

std::string_view TaskStatus(core::TaskState s) {
  switch (s) {
    case core::TaskState::kQueued: return "PENDING";
    case core::TaskState::kRunning: return "RUNNING";
    case core::TaskState::kSucceeded: return "SUCCEEDED";
    case core::TaskState::kFailed: return "FAILED";
    case core::TaskState::kCanceled: return "CANCELED";
  }
  return "UNKNOWN";
}

// The code a failed task reports in output.code.
std::string_view TaskErrorCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return "InvalidParameter";
    case ErrorCode::kContentRejected: return "DataInspectionFailed";
    case ErrorCode::kTimeout: return "RequestTimeOut";
    case ErrorCode::kRateLimited: return "Throttling";
    case ErrorCode::kUnavailable: return "ServiceUnavailable";
    default: return "InternalError";
  }
}

json Usage(const core::Task& task) {
  const auto& outs = task.outputs;
  if (!core::IsVideo(task.request.kind)) {
    json usage = {{"image_count", outs.size()}};
    if (!outs.empty()) usage["size"] = fmt::format("{}*{}", outs.front().width, outs.front().height);
    return usage;
  }
  const double seconds = outs.empty() ? 0 : outs.front().duration_s;
  const int out_s = static_cast<int>(seconds + 0.5);
  // An edit reads as much of its input as it writes (duration 0 keeps it, otherwise it is cut).
  const auto& r = task.request;
  if (r.kind == core::RequestKind::kVideoEdit) {
    // Edits report seconds to the hundredth (10.04, 5.02), as DashScope does.
    const double exact = std::round(seconds * 100) / 100;
    return {{"duration", 2 * exact},
            {"input_video_duration", exact},
            {"output_video_duration", exact},
            {"video_count", outs.size()},
            {"SR", r.resolution_tier == "720p" ? 720 : 1080}};
  }
  json usage = {{"duration", out_s},
                {"input_video_duration", 0},
                {"output_video_duration", out_s},
                {"video_count", outs.size()},
                {"SR", r.resolution_tier == "720p" ? 720 : 1080}};
  if (r.kind == core::RequestKind::kReferenceToVideo) usage["ratio"] = r.aspect_ratio.empty() ? "16:9" : r.aspect_ratio;
  return usage;
}

}  // namespace

std::string NewId() { return RandomUuid(); }

// DashScope writes times without a zone, in Beijing time (UTC+8), and its clients read them so.
std::string BeijingTime(int64_t unix_ms) { return FormatSpacedUtc(unix_ms + 8LL * 3600 * 1000); }

HttpResponse RenderError(const Error& error) {
  const WireError w = error.detail_code == tasks::kIdempotencyKeyReused
                          ? WireError{409, "IdempotentParameterMismatch"}
                          : WireFor(error.code);
  auto r = HttpResponse::Json(w.http, json{{"request_id", RandomUuid()}, {"code", w.code}, {"message", error.message}}.dump());
  if (error.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  return r;
}

json RenderTask(const core::Task& task, const ApiContext& ctx, const std::string& request_id) {
  json out = {{"task_id", task.id}, {"task_status", TaskStatus(task.state)}, {"submit_time", BeijingTime(task.created_ms)}};
  if (task.started_ms > 0) out["scheduled_time"] = BeijingTime(task.started_ms);
  if (core::IsTerminal(task.state)) out["end_time"] = BeijingTime(task.finished_ms);
  json body = {{"request_id", request_id}};
  if (task.state == core::TaskState::kSucceeded) {
    if (core::IsVideo(task.request.kind)) {
      if (!task.outputs.empty()) out["video_url"] = ctx.OutputUrl(task, task.outputs.front());
      out["orig_prompt"] = task.request.prompt;
    } else {
      json content = json::array();
      for (const auto& o : task.outputs) content.push_back({{"image", ctx.OutputUrl(task, o)}, {"type", "image"}});
      out["finished"] = true;
      out["choices"] = json::array(
          {{{"finish_reason", "stop"}, {"message", {{"role", "assistant"}, {"content", content}}}}});
    }
    body["usage"] = Usage(task);
  }
  if (task.state == core::TaskState::kFailed && task.error) {
    out["code"] = TaskErrorCode(task.error->code);
    out["message"] = task.error->message;
  }
  body["output"] = out;
  return body;
}

json RenderUnknown(const std::string& id, const std::string& request_id) {
  return {{"request_id", request_id}, {"output", {{"task_id", id}, {"task_status", "UNKNOWN"}}}};
}

callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery&,
                                          const ApiContext& ctx) {
  return {RenderTask(task, ctx, NewId()).dump(), ""};
}

}  // namespace wanserve::api::dialects::dashscope
