#include <fmt/format.h>

#include "providers/provider.h"

namespace wanserve::providers {

void ProviderRegistry::Add(std::unique_ptr<Provider> provider) {
  providers_.push_back(std::move(provider));
}

void ProviderRegistry::Route(const std::string& model, std::vector<std::string> names) {
  routes_.emplace_back(model, std::move(names));
}

Provider* ProviderRegistry::Find(std::string_view name) const {
  for (const auto& p : providers_) {
    if (p->Name() == name) return p.get();
  }
  return nullptr;
}

Result<Provider*> ProviderRegistry::Resolve(const core::GenerationRequest& request) const {
  const std::vector<std::string>* names = nullptr;
  for (const auto& [model, list] : routes_) {
    if (model == request.model || (model == "*" && !names)) names = &list;
    if (model == request.model) break;
  }
  if (!names) {
    return MakeError(ErrorCode::kUnavailable,
                     fmt::format("no provider is configured for model {}", request.model));
  }
  std::string reasons;
  for (const auto& name : *names) {
    Provider* p = Find(name);
    if (!p) {
      reasons += fmt::format("{}: not configured; ", name);
      continue;
    }
    auto ok = p->CanRun(request);
    if (ok.ok()) return p;
    reasons += fmt::format("{}: {}; ", name, ok.error().message);
  }
  return MakeError(ErrorCode::kUnavailable,
                   fmt::format("no provider can run model {} ({})", request.model, reasons));
}

}  // namespace wanserve::providers
