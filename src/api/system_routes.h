#pragma once
// Health, readiness (the store, and per model which provider makes it), Prometheus metrics and
// signed file downloads.
#include <memory>
#include <nlohmann/json.hpp>

#include "api/router.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "media/blob_store.h"
#include "media/url_signer.h"
#include "providers/registry.h"
#include "store/task_store.h"

namespace wanserve::api {

struct SystemDeps {
  store::TaskStore& store;
  const media::BlobStore& blobs;
  const media::UrlSigner& signer;
  MetricsRegistry& metrics;
  std::shared_ptr<Clock> clock;
  const providers::ProviderRegistry& providers;
  const media::BlobStore* uploads = nullptr;  // files clients uploaded (POST /v1/files)
};

void RegisterSystemRoutes(Router& router, const SystemDeps& deps);

// /readyz's account of the providers: per known model and kind, who makes it at which sizes
// (test-only providers marked), and each provider's health. Ready needs something served.
struct ReadinessReport {
  bool anything_served = false;
  nlohmann::json body;
};
ReadinessReport Readiness(const providers::ProviderRegistry& registry);

// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against a file size.
// nullopt = no usable range header (serve whole file); {-1,-1} = unsatisfiable.
std::optional<std::pair<int64_t, int64_t>> ParseByteRange(const std::string& header, int64_t size);

// The file's bytes as a response, honouring a Range header; kNotFound when it is gone.
Result<HttpResponse> ServeFile(const HttpRequest& req, const std::filesystem::path& path, std::string content_type);

}  // namespace wanserve::api
