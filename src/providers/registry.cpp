#include "providers/registry.h"

#include <fmt/format.h>

namespace wanserve::providers {

Result<core::GeneratedMedia> Provider::Run(const core::GenerationRequest&, const ProgressFn&, const CancelFn&) {
  return MakeError(ErrorCode::kInternal, fmt::format("provider {} runs tasks upstream, not here", Name()));
}

bool MayTryNextProvider(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kContentRejected:
    case ErrorCode::kUnsupportedModel:
    case ErrorCode::kCanceled:
      return false;
    default:
      return true;
  }
}

ProviderRegistry::ProviderRegistry(std::shared_ptr<Clock> clock, BreakerOptions breaker)
    : clock_(std::move(clock)), breaker_(breaker) {}

void ProviderRegistry::Add(std::unique_ptr<Provider> provider) { providers_.push_back(std::move(provider)); }

void ProviderRegistry::Route(const std::string& model, std::vector<std::string> names) {
  routes_.emplace_back(model, std::move(names));
}

Provider* ProviderRegistry::Find(std::string_view name) const {
  for (const auto& p : providers_) {
    if (p->Name() == name) return p.get();
  }
  return nullptr;
}

Result<std::vector<Provider*>> ProviderRegistry::Candidates(const core::GenerationRequest& request) const {
  const std::vector<std::string>* names = nullptr;
  for (const auto& [model, list] : routes_) {
    if (model == request.model || (model == "*" && !names)) names = &list;
    if (model == request.model) break;
  }
  if (!names) {
    return MakeError(ErrorCode::kUnavailable, fmt::format("no provider is configured for model {}", request.model));
  }
  std::vector<Provider*> out;
  std::string reasons;
  for (const auto& name : *names) {
    Provider* p = Find(name);
    if (!p) {
      reasons += fmt::format("{}: not configured; ", name);
      continue;
    }
    if (CircuitOpen(name)) {
      reasons += fmt::format("{}: unhealthy; ", name);
      continue;
    }
    if (auto ok = p->CanRun(request); !ok.ok()) {
      reasons += fmt::format("{}: {}; ", name, ok.error().message);
      continue;
    }
    out.push_back(p);
  }
  if (out.empty()) {
    return MakeError(ErrorCode::kUnavailable, fmt::format("no provider can run model {} ({})", request.model,
                                                          reasons.substr(0, reasons.size() - 2)));
  }
  return out;
}

void ProviderRegistry::ReportFault(std::string_view provider) {
  std::lock_guard lock(mu_);
  auto it = health_.try_emplace(std::string(provider)).first;
  if (++it->second.consecutive_faults >= breaker_.fault_threshold) {
    it->second.open_until_ms = clock_->NowMs() + breaker_.open_ms;
  }
}

void ProviderRegistry::ReportHealthy(std::string_view provider) {
  std::lock_guard lock(mu_);
  auto it = health_.find(provider);
  if (it != health_.end()) it->second = {};
}

bool ProviderRegistry::CircuitOpen(std::string_view provider) const {
  std::lock_guard lock(mu_);
  auto it = health_.find(provider);
  // Once open_ms has passed, requests go through again; the next fault reopens the circuit.
  return it != health_.end() && it->second.open_until_ms > clock_->NowMs();
}

}  // namespace wanserve::providers
