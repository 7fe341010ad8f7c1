#pragma once
// Model -> ordered provider names, from config. A provider that is not configured, cannot run
// the request, or whose circuit is open (too many consecutive upstream faults) is skipped.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "providers/provider.h"

namespace wanserve::providers {

struct BreakerOptions {
  int fault_threshold = 5;      // Default: 5 consecutive upstream faults open the circuit
  int64_t open_ms = 30'000;     // Default: 30 s before one request is let through again
};

class ProviderRegistry {
 public:
  explicit ProviderRegistry(std::shared_ptr<Clock> clock = MakeSystemClock(), BreakerOptions breaker = {});

  void Add(std::unique_ptr<Provider> provider);
  void Route(const std::string& model, std::vector<std::string> provider_names);
  // The providers to try for a request, in order; kUnavailable naming each reason when none.
  Result<std::vector<Provider*>> Candidates(const core::GenerationRequest& request) const;
  Provider* Find(std::string_view name) const;

  // Health, fed by whoever talks to the provider. Only the upstream's own faults count.
  void ReportFault(std::string_view provider);
  void ReportHealthy(std::string_view provider);
  bool CircuitOpen(std::string_view provider) const;

 private:
  struct Health {
    int consecutive_faults = 0;
    int64_t open_until_ms = 0;
  };

  std::shared_ptr<Clock> clock_;
  BreakerOptions breaker_;
  std::vector<std::unique_ptr<Provider>> providers_;
  std::vector<std::pair<std::string, std::vector<std::string>>> routes_;
  mutable std::mutex mu_;
  std::map<std::string, Health, std::less<>> health_;
};

}  // namespace wanserve::providers
