#include <charconv>

#include "api/dialects/fields.h"
#include "api/dialects/skills_video/internal.h"
#include "api/dialects/skills_video/skills_video.h"
#include "billing/credits.h"
#include "common/time_format.h"

namespace wanserve::api::dialects::skills_video {
namespace {

constexpr const char* kDialect = "skills_video";

ErrorRenderer Renderer(bool video) {
  return [video](const Error& e) { return RenderError(e, Family(video)); };
}

HttpResponse Submit(const ApiContext& ctx, Endpoint endpoint, const std::string& alias,
                    const HttpRequest& req, const RequestContext& rc) {
  const std::string_view family = Family(endpoint == Endpoint::kEditVideo);
  auto body = ParseJsonObject(req.body);
  if (!body.ok()) return RenderError(body.error(), family);
  auto parsed = Parse(endpoint, *body);
  if (!parsed.ok()) return RenderError(parsed.error(), family);
  if (Status urls = ctx.CheckOutboundUrls(parsed->request, *body); !urls.ok()) return RenderError(urls.error(), family);
  auto task = ctx.tasks.Submit({NewId(), kDialect, rc.key_id, rc.account_id, alias, parsed->echo.dump(),
                                std::move(parsed->request)});
  if (!task.ok()) return RenderError(task.error(), family);
  return HttpResponse::Json(200, RenderGeneration(*task, ctx).dump());
}

void AddCreate(Router& router, const ApiContext& ctx, const std::string& path, Endpoint endpoint,
               const std::string& alias) {
  router.Add({"POST", path, Access::kApiKey,
              [&ctx, endpoint, alias](const HttpRequest& req, const RequestContext& rc) {
                return Submit(ctx, endpoint, alias, req, rc);
              },
              Renderer(endpoint == Endpoint::kEditVideo)});
}

HttpResponse UnsupportedModel(const HttpRequest& req, const RequestContext& rc) {
  (void)rc;
  const bool video = req.path.find("video") != std::string::npos;
  return RenderError(MakeError(ErrorCode::kUnsupportedModel,
                               "model not supported by this server: " + req.path.substr(19), "model"),
                     Family(video));
}

}  // namespace

void Register(Router& router, const ApiContext& ctx) {
  AddCreate(router, ctx, "/api/v1/generation/wan/wan-v2.7", Endpoint::kImage, "wan-v2.7");
  AddCreate(router, ctx, "/api/v1/generation/wan/wan-v2.7-pro", Endpoint::kImagePro, "wan-v2.7-pro");
  AddCreate(router, ctx, "/api/v1/generation/wan/wan-v2.7/edit-video", Endpoint::kEditVideo,
            "wan-v2.7/edit-video");

  router.Add({"GET", "/api/v1/generations/running", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) {
                int limit = 50;
                if (auto l = req.Query("limit")) {
                  auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
                  if (ec != std::errc() || p != l->data() + l->size() || limit < 1 || limit > 100) {
                    return RenderError(MakeError(ErrorCode::kInvalidInput,
                                                 "limit: must be an integer from 1 to 100", "limit"),
                                       "GENERATION");
                  }
                }
                auto tasks = ctx.tasks.ListActive(rc.key_id, limit);
                if (!tasks.ok()) return RenderError(tasks.error(), "GENERATION");
                json arr = json::array();
                for (const auto& t : *tasks) {
                  json g = RenderGeneration(t, ctx);
                  arr.push_back({{"id", g["id"]}, {"status", g["status"]}, {"usage", g["usage"]},
                                 {"input", g["input"]}, {"progress", g["progress"]}});
                }
                return HttpResponse::Json(200, arr.dump());
              },
              [](const Error& e) { return RenderError(e, "GENERATION"); }});

  router.Add({"GET", "/api/v1/generation/{id}", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto task = ctx.tasks.Snapshot(rc.params.at("id"), rc.key_id);
                if (!task.ok()) return RenderError(task.error(), "GENERATION");
                return HttpResponse::Json(200, ctx.rendered.Body("skills_video", *task, [&ctx](const core::Task& t) {
                  return RenderGeneration(t, ctx).dump();
                }));
              },
              [](const Error& e) { return RenderError(e, "GENERATION"); }});

  router.Add({"POST", "/api/v1/generation/{id}/cancel", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto task = ctx.tasks.Cancel(rc.params.at("id"), rc.key_id);
                if (!task.ok()) return RenderError(task.error(), "GENERATION");
                return HttpResponse::Json(200, RenderGeneration(*task, ctx).dump());
              },
              [](const Error& e) { return RenderError(e, "GENERATION"); }});

  router.Add({"GET", "/api/v1/credits", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto v = billing::ViewCredits(*ctx.accounts, rc.account_id, rc.key_id, ctx.clock->NowMs());
                if (!v.ok()) return RenderError(v.error(), "CREDITS");
                json out = {{"total", v->total()}, {"subscription", v->subscription},
                            {"permanent", v->permanent}, {"unlimited", v->unlimited}};
                out["subscription_expires_at"] =
                    v->subscription_expires_ms > 0 ? json(FormatIso8601Utc(v->subscription_expires_ms)) : json(nullptr);
                return HttpResponse::Json(200, out.dump());
              },
              [](const Error& e) { return RenderError(e, "CREDITS"); }});

  router.Add({"POST", "/api/v1/generation/{provider}/{model}", Access::kApiKey, UnsupportedModel, Renderer(false)});
  router.Add({"POST", "/api/v1/generation/{provider}/{model}/{variant}", Access::kApiKey, UnsupportedModel, Renderer(false)});
}

}  // namespace wanserve::api::dialects::skills_video
