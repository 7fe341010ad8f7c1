#pragma once
// A provider turns a normalized request into pixels. It reports progress (0-100 of its own
// work) and checks the cancel flag between steps, returning kCanceled when it stops early.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "core/media_types.h"
#include "core/request.h"

namespace wanserve::providers {

using ProgressFn = std::function<void(int percent)>;
using CancelFn = std::function<bool()>;

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view Name() const = 0;
  // Whether this provider can run the request (kind, size); the reason when it cannot.
  virtual Status CanRun(const core::GenerationRequest& request) const = 0;
  virtual Result<core::GeneratedMedia> Run(const core::GenerationRequest& request,
                                           const ProgressFn& progress, const CancelFn& canceled) = 0;
};

// Model -> ordered provider names, from config; the first provider that can run a request wins.
class ProviderRegistry {
 public:
  void Add(std::unique_ptr<Provider> provider);
  void Route(const std::string& model, std::vector<std::string> provider_names);
  // kUnavailable naming the reason when no configured provider can run the request.
  Result<Provider*> Resolve(const core::GenerationRequest& request) const;

 private:
  std::vector<std::unique_ptr<Provider>> providers_;
  std::vector<std::pair<std::string, std::vector<std::string>>> routes_;
  Provider* Find(std::string_view name) const;
};

struct TestPatternOptions {
  int steps = 8;             // Default: 8 progress steps per output
  int step_delay_ms = 250;   // Default: 250 ms, so progress is visible in the demo
  int max_pixels = 4096 * 4096;
};

std::unique_ptr<Provider> MakeTestPatternProvider(const TestPatternOptions& options);

}  // namespace wanserve::providers
