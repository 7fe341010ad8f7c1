#include <charconv>

#include "api/dialects/fields.h"
#include "api/openapi.h"
#include "api/multipart.h"
#include "api/task_events.h"
#include "api/uploaded_files.h"
#include "api/dialects/skills_video/internal.h"
#include "api/dialects/skills_video/skills_video.h"
#include "billing/credits.h"
#include "common/time_format.h"

namespace wanserve::api::dialects::skills_video {
namespace {

constexpr const char* kDialect = "skills_video";

bool IsVideo(Endpoint endpoint) { return endpoint == Endpoint::kEditVideo || endpoint == Endpoint::kVideo; }

ErrorRenderer Renderer(bool video) {
  return [video](const Error& e) { return RenderError(e, Family(video)); };
}

// Fields that hold a list; in a multipart body each of their parts is one element.
bool IsListField(std::string_view name) {
  return name == "image_urls" || name == "reference_image_urls" || name == "video_refs";
}

// A multipart/form-data body as the JSON object it stands for: file parts are stored as
// uploads (24 h) and replaced by their links, text parts become strings (the parsers accept
// numbers and booleans spelled as strings from such bodies), empty text parts are left out.
Result<json> FormBody(const ApiContext& ctx, const HttpRequest& req, const std::string& key_id) {
  auto parts = ParseMultipart(req.Header("content-type").value_or(""), req.body);
  if (!parts.ok()) return parts.error();
  json body = json::object();
  for (const auto& part : *parts) {
    std::string name = part.name;
    if (name.ends_with("[]")) name.resize(name.size() - 2);
    std::string value;
    if (part.file_name) {
      UploadSpec spec;
      spec.api = "form";
      spec.original_name = *part.file_name;
      spec.ttl_ms = kFormRetentionMs;
      auto stored = StoreUpload(ctx, part.data, name, key_id, spec);
      if (!stored.ok()) return stored.error();
      value = stored->url;
    } else {
      value = std::string(part.data);
      if (value.empty()) continue;
    }
    if (IsListField(name)) {
      body[name].push_back(std::move(value));
    } else if (body.contains(name)) {
      return MakeError(ErrorCode::kInvalidInput, name + ": given more than once", name);
    } else {
      body[name] = std::move(value);
    }
  }
  return body;
}

// Parses and submits a create request; the task as stored.
Result<core::Task> Create(const ApiContext& ctx, Endpoint endpoint, const std::string& alias,
                          const HttpRequest& req, const RequestContext& rc) {
  const bool form = IsMultipartFormData(req.Header("content-type").value_or(""));
  auto body = form ? FormBody(ctx, req, rc.key_id) : ParseJsonRequest(req);
  if (!body.ok()) return body.error();
  auto parsed = Parse(endpoint, *body, Leniency{.numeric_strings = form});
  if (!parsed.ok()) return parsed.error();
  RETURN_IF_ERROR(ctx.CheckOutboundUrls(parsed->request, *body));
  auto task = ctx.tasks.Submit({NewId(), kDialect, rc.key_id, rc.account_id, alias, parsed->echo.dump(),
                                std::move(parsed->request), rc.idempotency_key, rc.request_hash});
  // The streaming twin takes the bodies of the polling create.
  const std::string path = req.path.starts_with("/api/v1/generation/sse/")
                               ? "/api/v1/generation/" + req.path.substr(std::string("/api/v1/generation/sse/").size())
                               : req.path;
  if (task.ok() && !form) WarnUndeclaredFields(OpenApiDocument, path, *body, task->id);
  return task;
}

std::string RenderText(const ApiContext& ctx, const core::Task& task) { return RenderGeneration(task, ctx).dump(); }

HttpResponse Events(const ApiContext& ctx, core::Task task, const std::string& key_id, bool created) {
  const std::string hint = "GET /api/v1/generation/" + task.id;
  auto stream = std::make_shared<TaskEventStream>(
      ctx.tasks, std::make_shared<const core::Task>(std::move(task)), key_id,
      [&ctx](const core::Task& t) { return RenderText(ctx, t); },
      TaskEventStream::Options{.announce_created = created, .poll_hint = hint});
  return EventStreamResponse(std::move(stream));
}

// The polling create and its streaming twin under /api/v1/generation/sse/.
void AddCreate(Router& router, const ApiContext& ctx, const std::string& model_path, Endpoint endpoint) {
  const std::string alias = model_path.substr(model_path.find('/') + 1);
  router.Add({"POST", "/api/v1/generation/" + model_path, Access::kApiKey,
              [&ctx, endpoint, alias](const HttpRequest& req, const RequestContext& rc) {
                auto task = Create(ctx, endpoint, alias, req, rc);
                if (!task.ok()) return RenderError(task.error(), Family(IsVideo(endpoint)));
                return HttpResponse::Json(200, RenderText(ctx, *task));
              },
              Renderer(IsVideo(endpoint)), 0, ctx.upload_body_limit});
  router.Add({"POST", "/api/v1/generation/sse/" + model_path, Access::kApiKey,
              [&ctx, endpoint, alias](const HttpRequest& req, const RequestContext& rc) {
                auto task = Create(ctx, endpoint, alias, req, rc);
                if (!task.ok()) return RenderError(task.error(), Family(IsVideo(endpoint)));
                return Events(ctx, std::move(*task), rc.key_id, true);
              },
              Renderer(IsVideo(endpoint)), 0, ctx.upload_body_limit});
}

// "wan/x" of "/api/v1/generation/wan/x" or "/api/v1/generation/sse/wan/x".
std::string Model(std::string_view path) {
  path.remove_prefix(std::string_view("/api/v1/generation/").size());
  if (path.starts_with("sse/")) path.remove_prefix(4);
  return std::string(path);
}

HttpResponse UnsupportedModel(const HttpRequest& req, const RequestContext& rc) {
  (void)rc;
  const bool video = req.path.find("video") != std::string::npos;
  return RenderError(MakeError(ErrorCode::kUnsupportedModel,
                               "model not supported by this server: " + Model(req.path), "model"),
                     Family(video));
}

}  // namespace

void Register(Router& router, const ApiContext& ctx) {
  AddCreate(router, ctx, "wan/wan-v2.7", Endpoint::kImage);
  AddCreate(router, ctx, "wan/wan-v2.7-pro", Endpoint::kImagePro);
  AddCreate(router, ctx, "wan/wan-v2.7/edit-video", Endpoint::kEditVideo);
  AddCreate(router, ctx, "wan/wan-v2.7-video", Endpoint::kVideo);

  router.Add(DocumentRoute("skills_video", OpenApiDocument, ctx.public_base_url, [](const Error& e) { return RenderError(e, "GENERATION"); }));
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

  router.Add({"GET", "/api/v1/generation/{id}/events", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                auto task = ctx.tasks.Get(rc.params.at("id"), rc.key_id);
                if (!task.ok()) return RenderError(task.error(), "GENERATION");
                return Events(ctx, std::move(*task), rc.key_id, false);
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

  router.Add({"POST", "/api/v1/generation/sse/{provider}/{model}", Access::kApiKey, UnsupportedModel, Renderer(false)});
  router.Add({"POST", "/api/v1/generation/sse/{provider}/{model}/{variant}", Access::kApiKey, UnsupportedModel,
              Renderer(false)});
  router.Add({"POST", "/api/v1/generation/{provider}/{model}", Access::kApiKey, UnsupportedModel, Renderer(false)});
  router.Add({"POST", "/api/v1/generation/{provider}/{model}/{variant}", Access::kApiKey, UnsupportedModel, Renderer(false)});
}

}  // namespace wanserve::api::dialects::skills_video
