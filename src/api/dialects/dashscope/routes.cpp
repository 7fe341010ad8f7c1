#include "api/dialects/dashscope/dashscope.h"
#include "api/dialects/dashscope/internal.h"
#include "api/dialects/fields.h"
#include "api/openapi.h"

namespace wanserve::api::dialects::dashscope {
namespace {

constexpr const char* kDialect = "dashscope";

using ParseFn = Result<core::GenerationRequest> (*)(const json&);

HttpResponse Submit(const ApiContext& ctx, ParseFn parse, const HttpRequest& req, const RequestContext& rc) {
  // DashScope serves these models asynchronously only, and says so when the header is missing.
  if (req.Header("x-dashscope-async").value_or("") != "enable") {
    return RenderError(MakeError(ErrorCode::kForbidden, "current user api does not support synchronous calls"));
  }
  auto body = ParseJsonRequest(req);
  if (!body.ok()) return RenderError(body.error());
  InlineUploads inline_uploads(ctx, rc.key_id);
  if (Status uploaded = ResolveUploadedUrls(ctx, req, *body, inline_uploads, rc.key_id); !uploaded.ok()) {
    return RenderError(uploaded.error());
  }
  auto request = parse(*body);
  if (!request.ok()) return RenderError(request.error());
  if (Status urls = ctx.CheckOutboundUrls(*request, *body); !urls.ok()) return RenderError(urls.error());
  const std::string model = (*body)["model"];  // as sent: a dated id is echoed as such
  const std::string id = NewId();
  auto task = ctx.tasks.Submit(
      {id, kDialect, rc.key_id, rc.account_id, model, "{}", std::move(*request), rc.idempotency_key, rc.request_hash});
  if (!task.ok()) return RenderError(task.error());
  // A replay answers with the earlier task, which has its own copies of the inputs.
  if (task->id == id) inline_uploads.Keep();
  WarnUndeclaredFields(OpenApiDocument, req.path, *body, task->id);
  return HttpResponse::Json(
      200, json{{"request_id", req.request_id}, {"output", {{"task_id", task->id}, {"task_status", "PENDING"}}}}.dump());
}

// A task of this dialect owned by the caller; nullopt when there is none.
Result<std::optional<core::Task>> Owned(const ApiContext& ctx, const RequestContext& rc) {
  auto task = ctx.tasks.Get(rc.params.at("task_id"), rc.key_id);
  if (!task.ok()) {
    if (task.error().code == ErrorCode::kNotFound || task.error().code == ErrorCode::kInvalidId) {
      return std::optional<core::Task>();
    }
    return task.error();
  }
  if (task->dialect != kDialect) return std::optional<core::Task>();
  return std::optional<core::Task>(std::move(*task));
}

}  // namespace

void Register(Router& router, const ApiContext& ctx) {
  const auto add = [&router](Route route) {
    route.echoes_request_id = true;
    router.Add(std::move(route));
  };
  // Room for an image inlined as a base64 data: URL (20 MB grows to 27 MB).
  constexpr size_t kCreateBodyLimit = 32 << 20;
  add({"POST", "/api/v1/services/aigc/video-generation/video-synthesis", Access::kApiKey,
       [&ctx](const HttpRequest& req, const RequestContext& rc) { return Submit(ctx, ParseVideo, req, rc); },
       RenderError, kCreateBodyLimit});
  add({"POST", "/api/v1/services/aigc/image-generation/generation", Access::kApiKey,
       [&ctx](const HttpRequest& req, const RequestContext& rc) { return Submit(ctx, ParseImage, req, rc); },
       RenderError, kCreateBodyLimit});
  router.Add(DocumentRoute("dashscope", OpenApiDocument, ctx.public_base_url, RenderError));
  add({"GET", "/api/v1/tasks/{task_id}", Access::kApiKey,
       [&ctx](const HttpRequest& req, const RequestContext& rc) {
         auto task = Owned(ctx, rc);
         if (!task.ok()) return RenderError(task.error());
         if (!task->has_value()) return HttpResponse::Json(200, RenderUnknown(rc.params.at("task_id"), req.request_id).dump());
         return HttpResponse::Json(200, RenderTask(**task, ctx, req.request_id).dump());
       },
       RenderError});
  add({"POST", "/api/v1/tasks/{task_id}/cancel", Access::kApiKey,
       [&ctx](const HttpRequest& req, const RequestContext& rc) {
         auto task = Owned(ctx, rc);
         if (!task.ok()) return RenderError(task.error());
         if (!task->has_value()) return RenderError(MakeError(ErrorCode::kNotFound, "task not found"));
         // DashScope cancels PENDING tasks only.
         if ((*task)->state != core::TaskState::kQueued) {
           return RenderError(MakeError(ErrorCode::kConflict, "Only a PENDING task can be canceled."));
         }
         auto canceled = ctx.tasks.Cancel((*task)->id, rc.key_id);
         if (!canceled.ok()) return RenderError(canceled.error());
         return HttpResponse::Json(200, RenderTask(*canceled, ctx, req.request_id).dump());
       },
       RenderError});
}

}  // namespace wanserve::api::dialects::dashscope
