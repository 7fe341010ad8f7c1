#include <fmt/format.h>

#include "api/dialects/market/internal.h"
#include "api/dialects/market/market.h"
#include "common/crypto.h"
#include "tasks/task_service.h"

namespace wanserve::api::dialects::market {
std::string_view StateName(core::TaskState s) {
  switch (s) {
    case core::TaskState::kQueued: return "waiting";
    case core::TaskState::kRunning: return "generating";
    case core::TaskState::kSucceeded: return "success";
    case core::TaskState::kFailed:
    case core::TaskState::kCanceled: return "fail";
  }
  return "waiting";
}

namespace {

json MsOrNull(int64_t ms) { return ms > 0 ? json(ms) : json(nullptr); }

}  // namespace

int EnvelopeCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthorized:
    case ErrorCode::kForbidden: return 401;
    case ErrorCode::kInsufficientCredits: return 402;
    case ErrorCode::kNotFound:
    case ErrorCode::kInvalidId: return 404;
    case ErrorCode::kInvalidInput:
    case ErrorCode::kUnsupportedModel:
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kConflict: return 422;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kUnavailable: return 455;
    case ErrorCode::kContentRejected:
    case ErrorCode::kUpstreamFailed:
    case ErrorCode::kTimeout:
    case ErrorCode::kCanceled: return 501;
    case ErrorCode::kInternal: return 500;
  }
  return 500;
}

std::string NewId(int64_t now_ms) {
  return fmt::format("task_wan_{}{}", now_ms, RandomString(6, "abcdefghijklmnopqrstuvwxyz0123456789"));
}

namespace {

// kie's failCode: its envelope codes as strings (API-DIALECTS §6.3); the reason is in failMsg.
std::string FailCode(const core::TaskError& e) {
  switch (core::ClassifyFailure(e)) {
    case core::FailureClass::kCanceled: return "cancelled";
    case core::FailureClass::kInputUnreachable:
    case core::FailureClass::kInputInvalid: return "422";
    case core::FailureClass::kContentRejected:
    case core::FailureClass::kTimeout:
    case core::FailureClass::kGenerationFailed: return "501";
    case core::FailureClass::kUnavailable: return "455";
    case core::FailureClass::kRateLimited: return "429";
    case core::FailureClass::kInternal: return "500";
  }
  return "500";
}

}  // namespace

HttpResponse RenderError(const Error& error) {
  const int code = error.detail_code == tasks::kIdempotencyKeyReused ? 409 : EnvelopeCode(error.code);
  json body = {{"code", code}, {"msg", error.message}, {"data", nullptr}};
  auto r = HttpResponse::Json(200, body.dump());
  if (error.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  return r;
}

json RenderRecord(const core::Task& task, const ApiContext& ctx) {
  std::string result_json;
  if (task.state == core::TaskState::kSucceeded) {
    json urls = json::array();
    for (const auto& o : task.outputs) urls.push_back(ctx.OutputUrl(task, o));
    result_json = json{{"resultUrls", urls}}.dump();
  }
  std::string fail_code, fail_msg;
  if (task.error && core::IsTerminal(task.state) && task.state != core::TaskState::kSucceeded) {
    fail_code = FailCode(*task.error);
    fail_msg = task.error->message;
  }
  json data = {{"taskId", task.id},
               {"task_id", task.id},
               {"model", task.model_alias},
               {"state", StateName(task.state)},
               {"param", task.client_echo},
               {"resultJson", result_json},
               {"failCode", fail_code},
               {"failMsg", fail_msg},
               {"progress", task.progress},
               // Whole seconds, as live kie reports it (its docs' example looks like ms).
               {"costTime", task.finished_ms > 0 && task.started_ms > 0
                                ? json((task.finished_ms - task.started_ms + 500) / 1000)
                                : json(nullptr)},
               {"completeTime", MsOrNull(task.finished_ms)},
               {"createTime", task.created_ms},
               {"updateTime", task.updated_ms}};
  return {{"code", 200}, {"msg", "success"}, {"message", "success"}, {"data", data}};
}

callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery&,
                                          const ApiContext& ctx) {
  return {RenderRecord(task, ctx).dump(), task.id};
}

}  // namespace wanserve::api::dialects::market
