#pragma once
// Health, readiness (the store, and per model which provider makes it), Prometheus metrics and
// signed file downloads.
#include <memory>
#include <nlohmann/json.hpp>

#include "api/blob_download.h"
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
  BlobDelivery delivery = {};
};

void RegisterSystemRoutes(Router& router, const SystemDeps& deps);

// /readyz's account of the providers: per known model and kind, who makes it at which sizes
// (test-only providers marked), and each provider's health. Ready needs something served, and
// every model a provider is routed for to have one that is live (circuit closed, its
// configuration accepted).
struct ReadinessReport {
  bool anything_served = false;
  std::vector<std::string> models_without_live_provider;
  nlohmann::json body;
};
ReadinessReport Readiness(const providers::ProviderRegistry& registry);

}  // namespace wanserve::api
