#include "api/dialects/fields.h"
#include "api/dialects/market/internal.h"
#include "api/dialects/market/market.h"
#include "api/json_limits.h"
#include "api/openapi.h"
#include "billing/credits.h"

namespace wanserve::api::dialects::market {
namespace {

constexpr const char* kDialect = "market";

Result<std::string> TaskIdOf(const HttpRequest& req) {
  if (auto id = req.Query("taskId"); id && !id->empty()) return *id;
  if (auto id = req.Query("task_id"); id && !id->empty()) return *id;
  if (!req.body.empty()) {
    auto body = ParseBoundedJson(req.body);
    if (body.is_object() && body.contains("taskId") && body["taskId"].is_string()) {
      return body["taskId"].get<std::string>();
    }
  }
  return MakeError(ErrorCode::kInvalidInput, "taskId is required", "taskId");
}

}  // namespace

void Register(Router& router, const ApiContext& ctx) {
  router.Add({"POST", "/api/v1/jobs/createTask", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) {
                auto body = ParseJsonRequest(req);
                if (!body.ok()) return RenderError(body.error());
                auto parsed = Parse(*body);
                if (!parsed.ok()) return RenderError(parsed.error());
                if (Status urls = ctx.CheckOutboundUrls(parsed->request, *body); !urls.ok()) {
                  return RenderError(urls.error());
                }
                auto task = ctx.tasks.Submit({NewId(ctx.clock->NowMs()), kDialect, rc.key_id, rc.account_id, parsed->model_alias,
                                              parsed->param.dump(), std::move(parsed->request),
                                              rc.idempotency_key, rc.request_hash});
                if (!task.ok()) return RenderError(task.error());
                WarnUndeclaredFields(OpenApiDocument, req.path, *body, task->id);
                json out = {{"code", 200}, {"msg", "success"}, {"data", {{"taskId", task->id}, {"recordId", task->id}}}};
                return HttpResponse::Json(200, out.dump());
              },
              RenderError});
  router.Add(DocumentRoute("market", OpenApiDocument, ctx.public_base_url, RenderError));
  router.Add({"GET", "/api/v1/jobs/recordInfo", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) {
                auto id = TaskIdOf(req);
                if (!id.ok()) return RenderError(id.error());
                auto task = ctx.tasks.Snapshot(*id, rc.key_id);
                if (!task.ok()) return RenderError(task.error());
                return HttpResponse::Json(200, ctx.rendered.Body("market", *task, [&ctx](const core::Task& t) {
                  return RenderRecord(t, ctx).dump();
                }));
              },
              RenderError});
  router.Add({"GET", "/api/v1/chat/credit", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto v = billing::ViewCredits(*ctx.accounts, rc.account_id, rc.key_id, ctx.clock->NowMs());
                if (!v.ok()) return RenderError(v.error());
                return HttpResponse::Json(200, json{{"code", 200}, {"msg", "success"}, {"data", v->key_remaining()}}.dump());
              },
              RenderError});
  // A short-lived link to one of our outputs (kie: 20 minutes); anything else is "url is wrong".
  router.Add({"POST", "/api/v1/common/download-url", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext&) {
                auto body = ParseJsonRequest(req);
                if (!body.ok()) return RenderError(body.error());
                Fields f(*body);
                auto url = f.RequiredString("url", 1, 4096);
                if (!url.ok()) return RenderError(url.error());
                const std::string prefix = ctx.public_base_url + "/files/";
                const int64_t now_s = ctx.clock->NowMs() / 1000;
                auto blob = url->starts_with(prefix)
                                ? ctx.signer.VerifyPath(std::string_view(*url).substr(ctx.public_base_url.size()), now_s)
                                : Result<std::string>(MakeError(ErrorCode::kForbidden, "not ours"));
                if (!blob.ok()) return RenderError(MakeError(ErrorCode::kInvalidInput, "url is wrong", "url"));
                const std::string link = ctx.public_base_url + ctx.signer.SignedPath(*blob, now_s + 20 * 60);
                return HttpResponse::Json(200, json{{"code", 200}, {"msg", "success"}, {"data", link}}.dump());
              },
              RenderError});
  router.Add({"POST", "/api/v1/jobs/cancelTask", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) {
                auto id = TaskIdOf(req);
                if (!id.ok()) return RenderError(id.error());
                auto task = ctx.tasks.Cancel(*id, rc.key_id);
                if (!task.ok()) return RenderError(task.error());
                json out = {{"code", 200}, {"msg", "success"},
                            {"data", {{"taskId", task->id}, {"state", StateName(task->state)}}}};
                return HttpResponse::Json(200, out.dump());
              },
              RenderError});
}

}  // namespace wanserve::api::dialects::market
