#include <fmt/format.h>

#include "api/dialects/skills_video/internal.h"
#include "api/dialects/skills_video/skills_video.h"
#include "common/crypto.h"
#include "common/time_format.h"

namespace wanserve::api::dialects::skills_video {
namespace {

struct WireError {
  int http;
  std::string_view sub;  // suffix after the family
};

WireError WireFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput: return {400, "INVALID_INPUT"};
    case ErrorCode::kUnsupportedModel: return {400, "UNSUPPORTED_MODEL"};
    case ErrorCode::kUnauthorized: return {401, "UNAUTHORIZED"};
    case ErrorCode::kInsufficientCredits: return {402, "INSUFFICIENT_CREDITS"};
    case ErrorCode::kForbidden: return {403, "FORBIDDEN"};
    case ErrorCode::kNotFound:
    case ErrorCode::kInvalidId: return {404, "NOT_FOUND"};
    case ErrorCode::kConflict: return {409, "CONFLICT"};
    case ErrorCode::kPayloadTooLarge: return {413, "PAYLOAD_TOO_LARGE"};
    case ErrorCode::kContentRejected: return {422, "CONTENT_REJECTED"};
    case ErrorCode::kRateLimited: return {429, "RATE_LIMITED"};
    case ErrorCode::kUpstreamFailed: return {502, "FAILED"};
    case ErrorCode::kUnavailable: return {503, "PROVIDER_UNAVAILABLE"};
    case ErrorCode::kTimeout: return {504, "TIMEOUT"};
    case ErrorCode::kCanceled: return {409, "CANCELED"};
    case ErrorCode::kInternal: return {500, "INTERNAL_ERROR"};
  }
  return {500, "INTERNAL_ERROR"};
}

std::string_view StatusName(core::TaskState s) {
  switch (s) {
    case core::TaskState::kQueued: return "IN_QUEUE";
    case core::TaskState::kRunning: return "IN_PROGRESS";
    case core::TaskState::kSucceeded: return "COMPLETED";
    case core::TaskState::kFailed: return "FAILED";
    case core::TaskState::kCanceled: return "CANCELED";
  }
  return "IN_QUEUE";
}

}  // namespace

std::string_view Family(bool video) { return video ? "VIDEO_GENERATION" : "IMAGE_GENERATION"; }

std::string NewId() { return "gen_" + RandomString(24, "abcdefghijklmnopqrstuvwxyz0123456789"); }

HttpResponse RenderError(const Error& error, std::string_view family) {
  const WireError w = WireFor(error.code);
  json body = {{"error", w.sub}, {"code", fmt::format("{}_{}", family, w.sub)}, {"message", error.message}};
  auto r = HttpResponse::Json(w.http, body.dump());
  if (w.http == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (error.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  return r;
}

json RenderGeneration(const core::Task& task, const ApiContext& ctx) {
  const bool video = core::IsVideo(task.request.kind);
  json out = {{"id", task.id},
              {"status", StatusName(task.state)},
              {"input", json::parse(task.client_echo, nullptr, false)},
              {"progress", task.progress},
              {"created_at", FormatIso8601Utc(task.created_ms)},
              {"usage", {{"total", task.usage.total},
                         {"subscription", task.usage.subscription},
                         {"permanent", task.usage.permanent}}},
              {"data", nullptr}};
  if (task.state == core::TaskState::kSucceeded) {
    json items = json::array();
    for (const auto& o : task.outputs) {
      json item = {{"url", ctx.OutputUrl(task, o)}, {"file_name", o.file_name},
                   {"content_type", o.content_type}, {"width", o.width}, {"height", o.height}};
      if (video) item["duration"] = o.duration_s;
      items.push_back(std::move(item));
    }
    json data = {{"type", video ? "video" : "image"},
                 {"n", task.outputs.size()},
                 {"actual_prompt", task.request.prompt}};
    data[video ? "videos" : "images"] = items;
    data[video ? "video" : "image"] = items.empty() ? json(nullptr) : items[0];
    out["data"] = std::move(data);
    out["completed_at"] = FormatIso8601Utc(task.finished_ms);
    if (!task.outputs_expired) out["expires_at"] = FormatIso8601Utc(ctx.LinksExpireAt(task) * 1000);
  }
  if (task.state == core::TaskState::kFailed && task.error) {
    out["code"] = fmt::format("{}_{}", Family(video), WireFor(task.error->code).sub);
    out["message"] = task.error->message;
  }
  return out;
}

callbacks::CallbackPayload RenderCallback(const core::Task& task, const store::CallbackDelivery& delivery,
                                          const ApiContext& ctx) {
  json prediction = RenderGeneration(task, ctx);
  prediction["state"] = core::ToString(task.state);
  json event = {{"type", delivery.event},
                {"id", "evt_" + delivery.id.substr(delivery.id.find('_') + 1)},
                {"created_at", FormatIso8601Utc(delivery.created_ms)},
                {"prediction", std::move(prediction)}};
  return {event.dump(), ""};
}

}  // namespace wanserve::api::dialects::skills_video
