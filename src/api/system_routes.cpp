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

bool ParseInt(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

}  // namespace

ReadinessReport Readiness(const providers::ProviderRegistry& registry) {
  ReadinessReport report;
  nlohmann::json models = nlohmann::json::array();
  std::set<std::string> providers;
  for (const providers::ServingRow& row : registry.ServingTable()) {
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
  for (const auto& name : providers) {
    nlohmann::json h = {{"circuit_open", registry.CircuitOpen(name)}};
    if (auto fault = registry.ConfigurationFault(name); !fault.empty()) h["configuration_fault"] = fault;
    health[name] = std::move(h);
  }
  report.body = {{"models", std::move(models)}, {"providers", std::move(health)}};
  return report;
}

std::optional<std::pair<int64_t, int64_t>> ParseByteRange(const std::string& header, int64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (header.rfind(kPrefix, 0) != 0) return std::nullopt;
  std::string_view spec(header);
  spec.remove_prefix(kPrefix.size());
  if (spec.find(',') != std::string_view::npos) return std::nullopt;  // multi-range: whole file
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  int64_t a = 0, b = 0;
  const auto first = spec.substr(0, dash);
  const auto last = spec.substr(dash + 1);
  const std::pair<int64_t, int64_t> unsatisfiable{-1, -1};
  if (first.empty()) {
    if (!ParseInt(last, b) || b == 0) return unsatisfiable;
    return std::make_pair(std::max<int64_t>(0, size - b), size - 1);
  }
  if (!ParseInt(first, a)) return std::nullopt;
  if (a >= size) return unsatisfiable;
  if (last.empty()) return std::make_pair(a, size - 1);
  if (!ParseInt(last, b) || b < a) return std::nullopt;
  return std::make_pair(a, std::min(b, size - 1));
}

Result<HttpResponse> ServeFile(const HttpRequest& req, const std::filesystem::path& path, std::string content_type) {
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  if (ec) return MakeError(ErrorCode::kNotFound, "file no longer exists");
  HttpResponse res;
  res.content_type = std::move(content_type);
  res.headers.emplace_back("Accept-Ranges", "bytes");
  res.headers.emplace_back("Cache-Control", "private, max-age=3600");
  res.file_path = path.string();
  res.file_offset = 0;
  res.file_length = static_cast<uint64_t>(size);
  if (auto range_header = req.Header("range")) {
    auto range = ParseByteRange(*range_header, size);
    if (range && range->first < 0) {
      auto r = JsonError(416, "range_not_satisfiable", "requested range is outside the file");
      r.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
      return r;
    }
    if (range) {
      res.status = 206;
      res.file_offset = static_cast<uint64_t>(range->first);
      res.file_length = static_cast<uint64_t>(range->second - range->first + 1);
      res.headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->second, size));
    }
  }
  return res;
}

void RegisterSystemRoutes(Router& router, const SystemDeps& deps) {
  router.Add({"GET", "/healthz", Access::kPublic,
              [](const HttpRequest&, const RequestContext&) {
                return HttpResponse::Json(200, R"({"status":"ok"})");
              },
              PlainRenderer()});

  router.Add({"GET", "/readyz", Access::kPublic,
              [deps](const HttpRequest&, const RequestContext&) {
                const bool store_ok = deps.store.CountByState().ok();
                const ReadinessReport report = Readiness(deps.providers);
                const bool ready = store_ok && report.anything_served;
                nlohmann::json body = report.body;
                body["status"] = ready ? "ready" : "not_ready";
                body["store"] = store_ok ? "ok" : "unavailable";
                return HttpResponse::Json(ready ? 200 : 503, body.dump());
              },
              PlainRenderer()});

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

  auto serve_file = [deps](const HttpRequest& req, const RequestContext& rc) {
    const std::string& id = rc.params.at("blob");
    auto path = deps.blobs.PathFor(id);
    if (!path.ok()) return JsonError(404, "not_found", "no such file");
    if (deps.uploads && !std::filesystem::exists(*path)) path = deps.uploads->PathFor(id);
    auto exp = req.Query("exp");
    auto sig = req.Query("sig");
    if (!exp || !sig) return JsonError(403, "forbidden", "missing link signature");
    auto valid = deps.signer.Verify(id, *exp, *sig, deps.clock->NowMs() / 1000);
    if (!valid.ok()) return JsonError(403, "forbidden", valid.error().message);
    auto served = ServeFile(req, *path, media::BlobStore::ContentTypeFor(id));
    if (!served.ok()) return JsonError(404, "not_found", "file no longer exists");
    return *served;
  };
  router.Add({"GET", "/files/{blob}", Access::kPublic, serve_file, PlainRenderer()});
}

}  // namespace wanserve::api
