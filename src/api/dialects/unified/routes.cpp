#include <charconv>
#include <set>

#include "api/dialects/fields.h"
#include "api/openapi.h"
#include "api/dialects/unified/internal.h"
#include "api/dialects/unified/unified.h"
#include "billing/credits.h"

namespace wanserve::api::dialects::unified {
namespace {

constexpr const char* kDialect = "unified";

using ParseFn = Result<Parsed> (*)(const json&);

HttpResponse Submit(const ApiContext& ctx, ParseFn parse, const HttpRequest& req, const RequestContext& rc) {
  auto body = ParseJsonRequest(req);
  if (!body.ok()) return RenderError(body.error());
  auto parsed = parse(*body);
  if (!parsed.ok()) return RenderError(parsed.error());
  if (Status urls = ctx.CheckOutboundUrls(parsed->request, *body); !urls.ok()) return RenderError(urls.error());
  auto task = ctx.tasks.Submit({NewId(ctx.clock->NowMs() / 1000), kDialect, rc.key_id, rc.account_id,
                                parsed->model_alias, "{}",
                                std::move(parsed->request), rc.idempotency_key, rc.request_hash});
  if (!task.ok()) return RenderError(task.error());
  json answer = RenderTask(*task, ctx);
  // A field this model does not have would change nothing silently: the answer says so.
  const auto ignored = WarnUndeclaredFields(OpenApiDocument, req.path, *body, task->id);
  for (const auto& field : ignored) {
    answer["warnings"].push_back(field + ": not a field of " + task->model_alias + "; ignored");
  }
  return HttpResponse::Json(200, answer.dump());
}

Result<std::string> CheckedId(const RequestContext& rc) {
  const std::string& id = rc.params.at("task_id");
  if (!IsValidId(id)) {
    return MakeError(ErrorCode::kInvalidId, "Invalid task ID format, must start with 'task-unified-'", "task_id");
  }
  return id;
}

// GET /v1/models: each model id, what it makes, who generates it here at which sizes, and the
// credits of its example request (the defaults).
json ModelList(const ApiContext& ctx) {
  const auto serving = ctx.tasks.routes().ServingTable();
  json data = json::array();
  for (const ModelExample& m : ModelExamples()) {
    json served = json::array();
    std::set<std::string> kinds;
    for (const auto& row : serving) {
      if (row.model != m.request.model || row.provider.empty()) continue;
      kinds.insert(std::string(core::ToString(row.capability.kind)));
      json entry = {{"provider", row.provider}, {"kind", core::ToString(row.capability.kind)},
                    {"sizes", row.capability.sizes}};
      if (row.for_tests_only) entry["test_only"] = true;
      served.push_back(std::move(entry));
    }
    json model = {{"id", m.id}, {"object", "model"}, {"created", 0}, {"owned_by", "wanserve"},
                  {"served_by", std::move(served)}};
    if (auto price = ctx.tasks.PriceOf(m.request)) model["example_price_credits"] = *price;
    data.push_back(std::move(model));
  }
  return {{"object", "list"}, {"data", std::move(data)}};
}

}  // namespace

void Register(Router& router, const ApiContext& ctx) {
  router.Add({"GET", "/v1/models", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext&) { return HttpResponse::Json(200, ModelList(ctx).dump()); },
              RenderError});
  // The document is public, as the providers' own references are.
  router.Add(DocumentRoute("unified", OpenApiDocument, ctx.public_base_url, RenderError));
  router.Add({"POST", "/v1/images/generations", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) { return Submit(ctx, ParseImage, req, rc); },
              RenderError});
  router.Add({"POST", "/v1/videos/generations", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) { return Submit(ctx, ParseVideo, req, rc); },
              RenderError});
  router.Add({"POST", "/v1/files", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) { return Upload(ctx, req, rc.key_id); }, RenderError,
              ctx.upload_body_limit});
  router.Add({"GET", "/v1/credits", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto v = billing::ViewCredits(*ctx.accounts, rc.account_id, rc.key_id, ctx.clock->NowMs());
                if (!v.ok()) return RenderError(v.error());
                // token = this key: "unlimited" when it has no cap of its own.
                json out = {{"data",
                             {{"token", {{"remaining_credits", v->key_remaining()},
                                         {"unlimited_credits", v->key_cap == 0},
                                         {"used_credits", v->key_spent}}},
                              {"user", {{"remaining_credits", v->total()}, {"used_credits", v->account_spent}}}}},
                            {"message", ""},
                            {"success", true}};
                return HttpResponse::Json(200, out.dump());
              },
              RenderError});
  // wanserve's own: the key's recent tasks, newest first (EvoLink has no list).
  router.Add({"GET", "/v1/tasks", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) {
                int64_t limit = 20;
                if (auto text = req.Query("limit")) {
                  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
                  if (ec != std::errc() || end != text->data() + text->size() || limit < 1 || limit > 100) {
                    return RenderError(MakeError(ErrorCode::kInvalidInput, "limit: must be an integer from 1 to 100", "limit"));
                  }
                }
                auto tasks = ctx.tasks.ListRecent(rc.key_id, static_cast<int>(limit));
                if (!tasks.ok()) return RenderError(tasks.error());
                json data = json::array();
                for (const auto& t : *tasks) data.push_back(RenderTask(t, ctx));
                return HttpResponse::Json(200, json{{"object", "list"}, {"data", std::move(data)}}.dump());
              },
              RenderError});
  router.Add({"GET", "/v1/tasks/{task_id}", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto id = CheckedId(rc);
                if (!id.ok()) return RenderError(id.error());
                auto task = ctx.tasks.Snapshot(*id, rc.key_id);
                if (!task.ok()) {
                  if (task.error().code == ErrorCode::kNotFound) {
                    return RenderError(MakeError(ErrorCode::kNotFound, "The requested task could not be found"));
                  }
                  return RenderError(task.error());
                }
                return HttpResponse::Json(200, ctx.rendered.Body("unified", *task, [&ctx](const core::Task& t) {
                  return RenderTask(t, ctx).dump();
                }));
              },
              RenderError});
  router.Add({"POST", "/v1/tasks/{task_id}/cancel", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto id = CheckedId(rc);
                if (!id.ok()) return RenderError(id.error());
                auto task = ctx.tasks.Cancel(*id, rc.key_id);
                if (!task.ok()) return RenderError(task.error());
                return HttpResponse::Json(200, RenderTask(*task, ctx).dump());
              },
              RenderError});
}

}  // namespace wanserve::api::dialects::unified
