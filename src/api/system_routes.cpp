#include "api/system_routes.h"

#include <fmt/format.h>

#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

namespace wanserve::api {
namespace {

HttpResponse JsonError(int status, const std::string& code, const std::string& message) {
  return HttpResponse::Json(status, fmt::format(R"({{"error":"{}","message":"{}"}})", code, message));
}

ErrorRenderer PlainRenderer() {
  return [](const Error& e) {
    int status = 500;
    switch (e.code) {
      case ErrorCode::kForbidden: status = 403; break;
      case ErrorCode::kNotFound:
      case ErrorCode::kInvalidId: status = 404; break;
      case ErrorCode::kPayloadTooLarge: status = 413; break;
      case ErrorCode::kUnauthorized: status = 401; break;
      default: break;
    }
    return JsonError(status, std::string(ToString(e.code)), e.message);
  };
}


}  // namespace

ReadinessReport Readiness(const providers::ProviderRegistry& registry) {
  ReadinessReport report;
  nlohmann::json models = nlohmann::json::array();
  std::set<std::string> providers;
  const auto table = registry.ServingTable();
  for (const providers::ServingRow& row : table) {
    nlohmann::json entry = {{"model", row.model}, {"kind", core::ToString(row.capability.kind)}};
    if (row.provider.empty()) {
      entry["provider"] = nullptr;
    } else {
      entry["provider"] = row.provider;
      entry["engine"] = row.capability.engine;
      entry["sizes"] = row.capability.sizes;
      if (row.for_tests_only) entry["test_only"] = true;
      report.anything_served = true;
      providers.insert(row.provider);
    }
    models.push_back(std::move(entry));
  }
  nlohmann::json health = nlohmann::json::object();
  std::set<std::string> live;
  for (const auto& name : providers) {
    nlohmann::json h = {{"circuit_open", registry.CircuitOpen(name)}};
    if (auto fault = registry.ConfigurationFault(name); !fault.empty()) h["configuration_fault"] = fault;
    if (!h["circuit_open"].get<bool>() && !h.contains("configuration_fault")) live.insert(name);
    health[name] = std::move(h);
  }
  std::set<std::string> routed, served_live;
  for (const providers::ServingRow& row : table) {
    if (row.provider.empty()) continue;
    routed.insert(row.model);
    if (live.count(row.provider)) served_live.insert(row.model);
  }
  for (const auto& model : routed) {
    if (!served_live.count(model)) report.models_without_live_provider.push_back(model);
  }
  report.body = {{"models", std::move(models)}, {"providers", std::move(health)}};
  if (!report.models_without_live_provider.empty()) {
    report.body["models_without_live_provider"] = report.models_without_live_provider;
  }
  return report;
}

void RegisterSystemRoutes(Router& router, const SystemDeps& deps) {
  // The API documents this server publishes, one per dialect.
  router.Add({"GET", "/openapi", Access::kPublic,
              [](const HttpRequest&, const RequestContext&) {
                const nlohmann::json index = {
                    {"documents",
                     {{{"dialect", "unified"}, {"title", "unified API (EvoLink style)"}, {"url", "/openapi/unified.json"}},
                      {{"dialect", "skills_video"}, {"title", "skills.video API"}, {"url", "/openapi/skills_video.json"}},
                      {{"dialect", "market"}, {"title", "market API (kie style)"}, {"url", "/openapi/market.json"}},
                      {{"dialect", "dashscope"}, {"title", "DashScope API"}, {"url", "/openapi/dashscope.json"}}}}};
                return HttpResponse::Json(200, index.dump());
              },
              PlainRenderer()});
  router.Add({"GET", "/healthz", Access::kPublic,
              [](const HttpRequest&, const RequestContext&) {
                return HttpResponse::Json(200, R"({"status":"ok"})");
              },
              PlainRenderer()});

  Route readiness{"GET", "/readyz", Access::kPublic,
              [deps](const HttpRequest&, const RequestContext&) {
                const bool store_ok = deps.store.CountByState().ok();
                // One listing of at most one entry: the outputs' storage answers (a bucket
                // reachable with the node's credentials, a data folder that can be read).
                const bool blobs_ok = deps.blobs.List("", "", 1).ok();
                const ReadinessReport report = Readiness(deps.providers);
                const bool ready =
                    store_ok && blobs_ok && report.anything_served && report.models_without_live_provider.empty();
                nlohmann::json body = report.body;
                body["status"] = ready ? "ready" : "not_ready";
                body["store"] = store_ok ? "ok" : "unavailable";
                body["blobs"] = blobs_ok ? "ok" : "unavailable";
                return HttpResponse::Json(ready ? 200 : 503, body.dump());
              },
              PlainRenderer()};
  readiness.blocking = true;  // the object store's listing waits on the network
  router.Add(std::move(readiness));

  router.Add({"GET", "/metrics", Access::kPublic,
              [deps](const HttpRequest&, const RequestContext&) {
                if (auto counts = deps.store.CountByState(); counts.ok()) {
                  deps.metrics.Describe("wanserve_tasks", "gauge", "Tasks in the store by state");
                  for (auto st : {core::TaskState::kQueued, core::TaskState::kRunning,
                                  core::TaskState::kSucceeded, core::TaskState::kFailed,
                                  core::TaskState::kCanceled}) {
                    auto it = counts->find(st);
                    deps.metrics.SetGauge("wanserve_tasks", {{"state", std::string(core::ToString(st))}},
                                          it == counts->end() ? 0 : static_cast<double>(it->second));
                  }
                  deps.metrics.Describe("wanserve_queue_depth", "gauge", "Tasks waiting for a worker");
                  auto q = counts->find(core::TaskState::kQueued);
                  deps.metrics.SetGauge("wanserve_queue_depth", {},
                                        q == counts->end() ? 0 : static_cast<double>(q->second));
                }
                return HttpResponse::Text(200, deps.metrics.RenderPrometheus(),
                                          "text/plain; version=0.0.4; charset=utf-8");
              },
              PlainRenderer()});

  // Outputs first, then uploads: both kinds of blob are served by signed links.
  auto serve_blob = [deps](const HttpRequest& req, const std::string& key) {
    if (!media::BlobStore::IsValidKey(key)) return JsonError(404, "not_found", "no such file");
    auto exp = req.Query("exp");
    auto sig = req.Query("sig");
    if (!exp || !sig) return JsonError(403, "forbidden", "missing link signature");
    auto valid = deps.signer.Verify(key, *exp, *sig, deps.clock->NowMs() / 1000);
    if (!valid.ok()) return JsonError(403, "forbidden", valid.error().message);
    // Which store holds a flat key is looked up first: a redirect is presigned without a lookup,
    // so serving from the outputs and falling back on "not found" would send uploads astray.
    const media::BlobStore* store = &deps.blobs;
    if (deps.uploads && !media::BlobStore::ParseOutputKey(key) && !deps.blobs.Stat(key).ok()) store = deps.uploads;
    auto served = ServeBlob(req, *store, key, media::BlobStore::ContentTypeFor(key), deps.delivery);
    if (!served.ok()) {
      return served.error().code == ErrorCode::kNotFound ? JsonError(404, "not_found", "file no longer exists")
                                                         : JsonError(503, "unavailable", "the file store is unavailable");
    }
    return *served;
  };
  Route flat{"GET", "/files/{blob}", Access::kPublic,
             [serve_blob](const HttpRequest& req, const RequestContext& rc) { return serve_blob(req, rc.params.at("blob")); },
             PlainRenderer()};
  flat.blocking = true;
  router.Add(std::move(flat));
  Route output{"GET", "/files/{task}/{attempt}/{name}", Access::kPublic,
               [serve_blob](const HttpRequest& req, const RequestContext& rc) {
                 return serve_blob(req, rc.params.at("task") + "/" + rc.params.at("attempt") + "/" + rc.params.at("name"));
               },
               PlainRenderer()};
  output.blocking = true;
  router.Add(std::move(output));
}

}  // namespace wanserve::api
