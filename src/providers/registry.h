#pragma once
// Model -> ordered provider names, from config. At submit a request must be served as asked by
// one provider of its route (CheckServed); when it runs, the providers that serve it and whose
// circuit is closed are tried in order (Candidates). The serving table says in words which
// provider makes which model, for the start-up log and /readyz.
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

// One provider making one kind of a model.
struct ServingRow {
  std::string model;
  std::string provider;
  bool for_tests_only = false;
  Capability capability;
};

class ProviderRegistry {
 public:
  explicit ProviderRegistry(std::shared_ptr<Clock> clock = MakeSystemClock(), BreakerOptions breaker = {});

  void Add(std::unique_ptr<Provider> provider);
  void Route(const std::string& model, std::vector<std::string> provider_names);
  Provider* Find(std::string_view name) const;
  // Names that routes mention but no provider of that name was added.
  std::vector<std::string> UnknownRouteNames() const;

  // At submit: whether a provider of the request's route generates it as asked, whatever its
  // health. Errors: kUnsupportedModel when none makes the model or kind, kInvalidInput (with
  // the field) when some make it but not at this size or length; the message names each
  // provider's reason.
  Status CheckServed(const core::GenerationRequest& request) const;
  // When it runs: the providers to try, in order; kUnavailable naming each reason when none.
  Result<std::vector<Provider*>> Candidates(const core::GenerationRequest& request) const;
  // Every known model and kind with the providers of its route that make it, in route order;
  // a model or kind nobody makes has one row with an empty provider.
  std::vector<ServingRow> ServingTable() const;
  // The routes (core::RouteOf) some provider here serves.
  std::vector<std::string> Routes() const;

  // Health, fed by whoever talks to the provider. Only the upstream's own faults count.
  void ReportFault(std::string_view provider);
  void ReportHealthy(std::string_view provider);
  bool CircuitOpen(std::string_view provider) const;
  // A refusal caused by the operator's configuration (IsConfigurationFault), kept for /readyz
  // until the provider next works.
  void ReportConfigurationFault(std::string_view provider, const std::string& message);
  std::string ConfigurationFault(std::string_view provider) const;

 private:
  struct Health {
    int consecutive_faults = 0;
    int64_t open_until_ms = 0;
    std::string configuration_fault;
  };
  const std::vector<std::string>* RouteOf(std::string_view model) const;

  std::shared_ptr<Clock> clock_;
  BreakerOptions breaker_;
  std::vector<std::unique_ptr<Provider>> providers_;
  std::vector<std::pair<std::string, std::vector<std::string>>> routes_;
  mutable std::mutex mu_;
  std::map<std::string, Health, std::less<>> health_;
};

}  // namespace wanserve::providers
