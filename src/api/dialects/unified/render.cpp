#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "api/dialects/unified/internal.h"
#include "api/dialects/unified/unified.h"
#include "common/crypto.h"
#include "tasks/task_service.h"

namespace wanserve::api::dialects::unified {
namespace {

constexpr std::string_view kIdPrefix = "task-unified-";
constexpr std::string_view kIdAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

struct WireError {
  int http;
  std::string_view code;
  std::string_view type;
};

WireError WireFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return {400, "invalid_request", "invalid_request_error"};
    case ErrorCode::kInvalidId: return {400, "invalid_task_id", "invalid_request_error"};
    case ErrorCode::kUnsupportedModel: return {404, "model_not_found", "not_found_error"};
    case ErrorCode::kUnauthorized: return {401, "unauthorized", "authentication_error"};
    case ErrorCode::kInsufficientCredits: return {402, "insufficient_quota", "insufficient_quota"};
    case ErrorCode::kForbidden: return {403, "permission_denied", "permission_error"};
    case ErrorCode::kNotFound: return {404, "task_not_found", "not_found_error"};
    case ErrorCode::kConflict: return {409, "invalid_task_state", "invalid_request_error"};
    case ErrorCode::kPayloadTooLarge: return {413, "request_too_large", "request_too_large_error"};
    case ErrorCode::kRateLimited: return {429, "rate_limit_exceeded", "rate_limit_error"};
    case ErrorCode::kContentRejected: return {400, "content_policy_violation", "invalid_request_error"};
    case ErrorCode::kUpstreamFailed: return {502, "upstream_error", "upstream_error"};
    case ErrorCode::kTimeout: return {504, "generation_timeout", "upstream_error"};
    case ErrorCode::kUnavailable: return {503, "service_unavailable", "service_unavailable_error"};
    case ErrorCode::kCanceled: return {409, "request_cancelled", "invalid_request_error"};
    case ErrorCode::kInternal: return {500, "internal_error", "internal_server_error"};
  }
  return {500, "internal_error", "internal_server_error"};
}

// The task error codes of EvoLink's task query.
// An input that could not be fetched, or an image that could not be decoded, is EvoLink's
// image_processing_error ("use another image"); every other input rule is invalid_parameters.
std::string_view TaskErrorCode(const core::TaskError& e) {
  switch (core::ClassifyFailure(e)) {
    case core::FailureClass::kCanceled: return "request_cancelled";
    case core::FailureClass::kInputUnreachable: return "image_processing_error";
    case core::FailureClass::kInputInvalid:
      return core::IsImageInputFailure(e) ? "image_processing_error" : "invalid_parameters";
    case core::FailureClass::kContentRejected: return "content_policy_violation";
    case core::FailureClass::kTimeout: return "generation_timeout";
    case core::FailureClass::kUnavailable: return "service_unavailable";
    case core::FailureClass::kRateLimited: return "quota_exceeded";
    case core::FailureClass::kGenerationFailed: return "generation_failed_no_content";
    case core::FailureClass::kInternal: return "service_error";
  }
  return "service_error";
}

std::string_view StatusName(core::TaskState s) {
  switch (s) {
    case core::TaskState::kQueued: return "pending";
    case core::TaskState::kRunning: return "processing";
    case core::TaskState::kSucceeded: return "completed";
    case core::TaskState::kFailed:
    case core::TaskState::kCanceled: return "failed";
  }
  return "pending";
}

// What a task of this kind typically takes before anything is measured.
int TypicalSeconds(const core::GenerationRequest& r) {
  if (core::IsVideo(r.kind)) return 60 + static_cast<int>((r.duration_s > 0 ? r.duration_s : 5) * 12) * r.count;
  return 20 * r.count;
}

// Seconds left. Once progress has moved, from the measured pace (time so far × what is left ÷
// what is done, progress being reported per denoising step); before that, the typical time
// less what has passed; a queued task has not started counting.
int EstimatedSeconds(const core::Task& task, int64_t now_ms) {
  const int typical = TypicalSeconds(task.request);
  if (task.state != core::TaskState::kRunning || task.started_ms <= 0) return typical;
  const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now_ms - task.started_ms)) / 1000.0;
  if (task.progress > 0 && task.progress < 100) {
    return std::max(1, static_cast<int>(std::ceil(elapsed_s * (100 - task.progress) / task.progress)));
  }
  return std::max(1, typical - static_cast<int>(elapsed_s));
}

}  // namespace

std::string NewId(int64_t unix_seconds) {
  return fmt::format("{}{}-{}", kIdPrefix, unix_seconds, RandomString(8, kIdAlphabet));
}

bool IsValidId(const std::string& id) {
  if (id.rfind(kIdPrefix, 0) != 0) return false;
  const std::string rest = id.substr(kIdPrefix.size());
  const auto dash = rest.find('-');
  if (dash == std::string::npos || dash == 0 || dash > 12 || rest.size() - dash - 1 != 8) return false;
  for (size_t i = 0; i < dash; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return false;
  }
  return rest.substr(dash + 1).find_first_not_of(kIdAlphabet) == std::string::npos;
}

HttpResponse RenderError(const Error& error) {
  const WireError w = error.detail_code == tasks::kIdempotencyKeyReused
                          ? WireError{409, "idempotency_key_reused", "invalid_request_error"}
                          : WireFor(error.code);
  json e = {{"code", w.code}, {"message", error.message}, {"type", w.type}};
  e["param"] = error.field.empty() ? json(nullptr) : json(error.field);
  auto r = HttpResponse::Json(w.http, json{{"error", e}}.dump());
  if (w.http == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (error.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  return r;
}

json RenderTask(const core::Task& task, const ApiContext& ctx) {
  const bool video = core::IsVideo(task.request.kind);
  const bool active = !core::IsTerminal(task.state);
  json info = {{"can_cancel", active}};
  if (active) info["estimated_time"] = EstimatedSeconds(task, ctx.clock->NowMs());
  // Once finished, what was made (an edit with duration 0 keeps its input's length).
  if (video) {
    info["video_duration"] = std::lround(task.outputs.empty() ? task.request.duration_s : task.outputs.front().duration_s);
  }
  json out = {{"created", task.created_ms / 1000},
              {"id", task.id},
              {"model", task.model_alias},
              {"object", video ? "video.generation.task" : "image.generation.task"},
              {"progress", task.progress},
              {"status", StatusName(task.state)},
              {"task_info", info},
              {"type", video ? "video" : "image"},
              {"usage", {{"billing_rule", video ? "per_second" : "per_call"},
                         {"credits_reserved", task.usage.total},
                         {"user_group", "default"}}}};
  if (task.state == core::TaskState::kSucceeded) {
    json results = json::array();
    for (const auto& o : task.outputs) results.push_back(ctx.OutputUrl(task, o));
    out["results"] = results;
  }
  if (task.error && (task.state == core::TaskState::kFailed || task.state == core::TaskState::kCanceled)) {
    out["error"] = {{"code", TaskErrorCode(*task.error)}, {"message", task.error->message}, {"type", "task_error"}};
  }
  return out;
}

callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery&,
                                          const ApiContext& ctx) {
  return {RenderTask(task, ctx).dump(), ""};
}

}  // namespace wanserve::api::dialects::unified
