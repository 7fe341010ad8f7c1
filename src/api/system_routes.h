#pragma once
// Health, readiness, Prometheus metrics and signed file downloads.
#include <memory>

#include "api/router.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "media/blob_store.h"
#include "media/url_signer.h"
#include "store/task_store.h"

namespace wanserve::api {

struct SystemDeps {
  store::TaskStore& store;
  const media::BlobStore& blobs;
  const media::UrlSigner& signer;
  MetricsRegistry& metrics;
  std::shared_ptr<Clock> clock;
  const media::BlobStore* uploads = nullptr;  // files clients uploaded (POST /v1/files)
};

void RegisterSystemRoutes(Router& router, const SystemDeps& deps);

// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against a file size.
// nullopt = no usable range header (serve whole file); {-1,-1} = unsatisfiable.
std::optional<std::pair<int64_t, int64_t>> ParseByteRange(const std::string& header, int64_t size);

}  // namespace wanserve::api
