#pragma once
// Request counters of one route, updated without locks on the request path and published to
// the metrics registry only when /metrics is scraped.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/metrics.h"

namespace wanserve::api {

class RouteStats {
 public:
  void Record(int status, double seconds);
  void Publish(MetricsRegistry& m, const std::string& route, const std::string& method) const;

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;
  std::array<std::atomic<uint64_t>, kMaxStatus - kMinStatus + 1> by_status_{};
  std::vector<std::atomic<uint64_t>> buckets_ =
      std::vector<std::atomic<uint64_t>>(MetricsRegistry::DefaultBuckets().size());
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> micros_{0};
};

}  // namespace wanserve::api
