#include "providers/registry.h"

#include <fmt/format.h>

#include <optional>
#include <set>

namespace wanserve::providers {

Result<core::GeneratedMedia> Provider::Run(const core::GenerationRequest&, const media::PreparedInputs&,
                                           const ProgressFn&, const CancelFn&) {
  return MakeError(ErrorCode::kInternal, fmt::format("provider {} runs tasks upstream, not here", Name()));
}

bool IsConfigurationFault(const Error& e) {
  return e.detail_code == kProviderAuthFailed || e.detail_code == kProviderAccessDenied ||
         e.detail_code == kProviderQuotaExhausted;
}

bool MayTryNextProvider(const Error& e) {
  if (IsConfigurationFault(e)) return false;
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

std::vector<std::string> ProviderRegistry::UnknownRouteNames() const {
  std::set<std::string> unknown;
  for (const auto& [model, names] : routes_) {
    for (const auto& name : names) {
      if (!Find(name)) unknown.insert(name);
    }
  }
  return {unknown.begin(), unknown.end()};
}

const std::vector<std::string>* ProviderRegistry::RouteOf(std::string_view model) const {
  const std::vector<std::string>* names = nullptr;
  for (const auto& [route, list] : routes_) {
    if (route == model) return &list;
    if (route == "*" && !names) names = &list;
  }
  return names;
}

Status ProviderRegistry::CheckServed(const core::GenerationRequest& request) const {
  const auto* names = RouteOf(request.model);
  if (!names || names->empty()) {
    return MakeError(ErrorCode::kUnsupportedModel,
                     fmt::format("no provider is configured for model {}", request.model), "model");
  }
  std::string reasons;
  std::optional<Error> size_refusal;
  for (const auto& name : *names) {
    const Provider* p = Find(name);
    if (!p) {
      reasons += fmt::format("; {}: not configured", name);
      continue;
    }
    Status served = p->Serves(request);
    if (served.ok()) return Status::Ok();
    reasons += fmt::format("; {}: {}", name, served.error().message);
    if (served.error().code != ErrorCode::kUnsupportedModel && !size_refusal) size_refusal = served.error();
  }
  reasons.erase(0, 2);
  if (size_refusal) {
    return MakeError(size_refusal->code,
                     fmt::format("{}: no provider of this server generates this request as asked ({})",
                                 size_refusal->field.empty() ? request.model : size_refusal->field, reasons),
                     size_refusal->field);
  }
  return MakeError(ErrorCode::kUnsupportedModel,
                   fmt::format("this server does not make {} {} ({})", request.model, core::ToString(request.kind),
                               reasons),
                   "model");
}

Result<std::vector<Provider*>> ProviderRegistry::Candidates(const core::GenerationRequest& request) const {
  const auto* names = RouteOf(request.model);
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
    if (auto ok = p->Serves(request); !ok.ok()) {
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

std::vector<ServingRow> ProviderRegistry::ServingTable() const {
  std::vector<ServingRow> rows;
  for (std::string_view model : core::KnownModels()) {
    const auto* names = RouteOf(model);
    for (core::RequestKind kind : core::KindsOfModel(model)) {
      bool served = false;
      for (const auto& name : names ? *names : std::vector<std::string>{}) {
        const Provider* p = Find(name);
        if (!p) continue;
        for (Capability& c : p->Capabilities(model)) {
          if (c.kind != kind) continue;
          rows.push_back({std::string(model), name, p->ForTestsOnly(), std::move(c)});
          served = true;
        }
      }
      if (!served) rows.push_back({std::string(model), "", false, Capability{kind, "", ""}});
    }
  }
  return rows;
}

std::vector<std::string> ProviderRegistry::Routes() const {
  std::vector<std::string> routes;
  for (const ServingRow& row : ServingTable()) {
    std::string route = core::RouteOf(row.model, row.capability.kind);
    if (!row.provider.empty() && (routes.empty() || routes.back() != route)) routes.push_back(std::move(route));
  }
  return routes;
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

void ProviderRegistry::ReportConfigurationFault(std::string_view provider, const std::string& message) {
  std::lock_guard lock(mu_);
  health_.try_emplace(std::string(provider)).first->second.configuration_fault = message;
}

std::string ProviderRegistry::ConfigurationFault(std::string_view provider) const {
  std::lock_guard lock(mu_);
  auto it = health_.find(provider);
  return it == health_.end() ? std::string() : it->second.configuration_fault;
}

}  // namespace wanserve::providers
