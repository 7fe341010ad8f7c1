#pragma once
// Alibaba Cloud Model Studio (DashScope): the real Wan 2.7. Tasks are created on DashScope's
// async endpoints and polled by the UpstreamPoller; every request goes through the outbound
// guard.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/outbound_client.h"
#include "providers/provider.h"

namespace wanserve::providers {

inline constexpr const char* kDashScopeBeijing = "https://dashscope.aliyuncs.com/api/v1";
inline constexpr const char* kDashScopeSingapore = "https://dashscope-intl.aliyuncs.com/api/v1";

struct DashScopeOptions {
  std::string base_url = kDashScopeSingapore;  // Default: the international endpoint
  std::string api_key;                         // never logged
  int64_t request_timeout_ms = 30'000;         // Default: 30 s per create, query or cancel
  int64_t download_timeout_ms = 300'000;       // Default: 5 min per result file
  // Delay before each poll; the last one repeats. Default: 2,2,3,5,5,10 s.
  std::vector<int64_t> poll_schedule_ms = {2'000, 2'000, 3'000, 5'000, 5'000, 10'000};
  // Waits before re-sending a create request that was throttled or hit a DashScope fault.
  std::vector<int64_t> submit_retry_ms = {1'000, 2'000};  // Default: 1 s, then 2 s
  double queries_per_second = 20;              // Default: 20, DashScope's query limit per key
  int64_t task_timeout_ms = 3'600'000;         // Default: 1 h from creation, then given up
};

std::unique_ptr<Provider> MakeDashScopeProvider(DashScopeOptions options, net::OutboundClient& outbound);

}  // namespace wanserve::providers
