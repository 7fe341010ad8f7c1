#pragma once
// A provider turns a normalized request into pixels, either here (Run: it reports progress
// 0-100 of its own work and checks the cancel flag between steps, returning kCanceled when it
// stops early) or on an upstream service (Upstream(): the task is created there and polled).
// Each provider says what it generates as asked (Serves) and in words (Capabilities): a
// request no provider serves is refused at submit, never generated at another size.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/metrics.h"
#include "core/media_types.h"
#include "core/request.h"
#include "media/input_files.h"

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

// Detail codes of refusals caused by the operator's configuration of a provider (a key the
// provider refuses, no access to the model, an exhausted account). Another provider would only
// hide the mistake, so these fail the task.
inline constexpr std::string_view kProviderAuthFailed = "provider_auth_failed";
inline constexpr std::string_view kProviderAccessDenied = "provider_access_denied";
inline constexpr std::string_view kProviderQuotaExhausted = "provider_quota_exhausted";
bool IsConfigurationFault(const Error& e);

// Whether a failed create request left nothing behind upstream and the fault was the
// provider's own (unreachable, 5xx, throttled), so the next provider may run the task.
bool MayTryNextProvider(const Error& submit_error);

// One mode a provider generates, in words, for the start-up table and /readyz.
struct Capability {
  core::RequestKind kind = core::RequestKind::kTextToImage;
  std::string sizes;   // e.g. "720p (1280x704); images up to 1.08 MP", "any"
  std::string engine;  // what runs it, e.g. "wan2.2-ti2v-5b", "Wan 2.7 on DashScope"
};

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
  // Whether this provider generates the request as asked (model, kind, size, duration,
  // inputs); otherwise why not: kUnsupportedModel when it does not make the model or kind at
  // all, kInvalidInput naming the field when it does but not like this. Health is not its
  // business (the registry's breaker is).
  virtual Status Serves(const core::GenerationRequest& request) const = 0;
  // What it generates, per model of core::KnownModels() it makes.
  virtual std::vector<Capability> Capabilities(std::string_view model) const = 0;
  // Test and demo providers (testpattern): real media, but no model made them.
  virtual bool ForTestsOnly() const { return false; }
  // Runs the request here, with its input files downloaded and probed. Upstream providers do
  // not run anything locally.
  virtual Result<core::GeneratedMedia> Run(const core::GenerationRequest& request, const media::PreparedInputs& inputs,
                                           const ProgressFn& progress, const CancelFn& canceled);
  // Non-null for providers that run tasks on another service.
  virtual UpstreamApi* Upstream() { return nullptr; }
};

struct TestPatternOptions {
  // Default: off. A test and demo provider, turned on by the tests and scripts/demo.sh; never
  // an implicit fallback.
  bool enabled = false;
  int steps = 8;             // Default: 8 progress steps per output
  int step_delay_ms = 250;   // Default: 250 ms, so progress is visible in the demo
  int max_pixels = 4096 * 4096;
};

std::unique_ptr<Provider> MakeTestPatternProvider(const TestPatternOptions& options);

struct LocalEngineOptions {
  // Presets to serve, in order of preference: a request goes to the first that makes its kind
  // at its size and length. "tiny" names the test presets (random weights). Default: none, so
  // the local provider is off.
  std::vector<std::string> models;
  // A release folder, or a folder holding one per preset (what `wanserve models pull` lays
  // out). Default: none.
  std::string weights_dir;
  int threads = 0;                 // Default: 0 = every core
  std::string device = "auto";     // Default: auto, the first CUDA device if the engine has one, else cpu
  std::string precision = "auto";  // Default: auto, bf16 on CUDA and float32 on the CPU
  uint64_t weight_seed = 0;        // tiny: the seed its weights are drawn from
  int64_t cpu_cache_mb = 512;      // Default: 512 MiB of freed CPU blocks kept for the next step
  // How much of the schedule an image or video edit runs again, in (0, 1]. Default: 0 takes
  // the engine's (engine::kDefaultEditStrength).
  double edit_strength = 0;
  // On a GPU, keep the text encoder in host memory, uploaded per prompt. Default: off.
  bool offload_text_encoder = false;
  // Where step, decode, run and load times and the peak memory of runs go. Default: nowhere.
  MetricsRegistry* metrics = nullptr;
};

// Errors: kUnsupportedModel for a model name the engine does not know.
Result<std::unique_ptr<Provider>> MakeLocalProvider(const LocalEngineOptions& options);

}  // namespace wanserve::providers
