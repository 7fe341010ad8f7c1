#include "api/route_stats.h"

namespace wanserve::api {

void RouteStats::Record(int status, double seconds) {
  if (status >= kMinStatus && status <= kMaxStatus) {
    by_status_[status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
  }
  const auto& bounds = MetricsRegistry::DefaultBuckets();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (seconds <= bounds[i]) buckets_[i].fetch_add(1, std::memory_order_relaxed);
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void RouteStats::Publish(MetricsRegistry& m, const std::string& route, const std::string& method) const {
  for (int st = kMinStatus; st <= kMaxStatus; ++st) {
    const uint64_t n = by_status_[st - kMinStatus].load(std::memory_order_relaxed);
    if (n) {
      m.SetCounter("wanserve_http_requests_total", {{"route", route}, {"method", method}, {"code", std::to_string(st)}},
                   static_cast<double>(n));
    }
  }
  const uint64_t total = count_.load(std::memory_order_relaxed);
  if (!total) return;
  std::vector<uint64_t> counts;
  for (const auto& b : buckets_) counts.push_back(b.load(std::memory_order_relaxed));
  m.SetHistogram("wanserve_http_request_seconds", {{"route", route}}, counts,
                 static_cast<double>(micros_.load(std::memory_order_relaxed)) / 1e6, total);
}

}  // namespace wanserve::api
