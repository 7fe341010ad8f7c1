#pragma once
// A provider turns a normalized request into pixels, either here (Run: it reports progress
// 0-100 of its own work and checks the cancel flag between steps, returning kCanceled when it
// stops early) or on an upstream service (Upstream(): the task is created there and polled).
#include <cstdint>
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

enum class UpstreamPhase { kPending, kRunning, kSucceeded, kFailed, kCanceled, kUnknown };

struct UpstreamResult {
  std::string url;
  bool video = false;
};

struct UpstreamStatus {
  UpstreamPhase phase = UpstreamPhase::kPending;
  std::string raw_status;                // the upstream's own word ("RUNNING")
  std::vector<UpstreamResult> results;   // on success, in output order
  std::string usage_json;                // the upstream's usage report, on success
  Error error;                           // on failure: our class, the upstream code as detail
};

// Detail code of a create request whose outcome is unknown (sent, no answer): the upstream
// may have created the task, so it must not be sent there again.
inline constexpr std::string_view kOutcomeUnknown = "upstream_outcome_unknown";

// Whether a failed create request left nothing behind upstream and the fault was not the
// request's own, so the next provider may run the task.
bool MayTryNextProvider(const Error& submit_error);

class UpstreamApi {
 public:
  virtual ~UpstreamApi() = default;
  // Creates the upstream task; its id. Errors: the request's own fault (kInvalidInput,
  // kContentRejected), kOutcomeUnknown, or a refusal that created nothing.
  virtual Result<std::string> Submit(const core::GenerationRequest& request) = 0;
  virtual Result<UpstreamStatus> Poll(const std::string& upstream_id) = 0;
  // Cancels a task that has not started upstream.
  virtual Status Cancel(const std::string& upstream_id) = 0;
  // Fetches a result file (through the outbound guard).
  virtual Result<std::string> Download(const std::string& url, int64_t max_bytes) = 0;
  // Delay before poll number polls+1 (fast at first, slower later).
  virtual int64_t PollDelayMs(int polls) const = 0;
  // How long an upstream task may take before it is given up.
  virtual int64_t TaskTimeoutMs() const = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view Name() const = 0;
  // Whether this provider can run the request (kind, size); the reason when it cannot.
  virtual Status CanRun(const core::GenerationRequest& request) const = 0;
  // Runs the request here. Upstream providers do not run anything locally.
  virtual Result<core::GeneratedMedia> Run(const core::GenerationRequest& request, const ProgressFn& progress,
                                           const CancelFn& canceled);
  // Non-null for providers that run tasks on another service.
  virtual UpstreamApi* Upstream() { return nullptr; }
};

struct TestPatternOptions {
  int steps = 8;             // Default: 8 progress steps per output
  int step_delay_ms = 250;   // Default: 250 ms, so progress is visible in the demo
  int max_pixels = 4096 * 4096;
};

std::unique_ptr<Provider> MakeTestPatternProvider(const TestPatternOptions& options);

struct LocalEngineOptions {
  bool enabled = false;        // Default: off; on when a model is configured (the demo: tiny)
  std::string model = "tiny";  // Default: tiny (random weights, for trying the server out)
  std::string weights_dir;     // Default: none; the official release's folder for real models
  int threads = 0;             // Default: 0 = every core
  std::string device = "auto";     // Default: auto, the first CUDA device if the engine has one, else cpu
  std::string precision = "auto";  // Default: auto, bf16 on CUDA and float32 on the CPU
  // Largest frame the engine renders before scaling to the requested size. Default: 0 = the
  // model's own default size (832x480 for Wan2.1 1.3B, 128x128 for tiny).
  int64_t max_render_pixels = 0;
  uint64_t weight_seed = 0;    // tiny: the seed its weights are drawn from
  int64_t cpu_cache_mb = 512;  // Default: 512 MiB of freed CPU blocks kept for the next step
};

std::unique_ptr<Provider> MakeLocalProvider(const LocalEngineOptions& options);

}  // namespace wanserve::providers
