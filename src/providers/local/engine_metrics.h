#pragma once
// The local engine's figures for /metrics: how long a denoising step, a VAE decode, a whole run
// and a model load take per preset, and how much memory the process held at most during a run.
#include <chrono>
#include <string>

#include "common/metrics.h"

namespace wanserve::providers {

// Describes the engine's series (once, where the provider is made).
void DescribeEngineMetrics(MetricsRegistry& metrics);

// A model load of `preset` that took `seconds`.
void RecordEngineLoad(MetricsRegistry* metrics, const std::string& preset, double seconds);

// One generation, measured from construction to Finish(). Nothing is recorded without a registry.
class EngineRunMeter {
 public:
  EngineRunMeter(MetricsRegistry* metrics, std::string preset, std::string placement);
  // The engine's step report (engine::StepFn): the total is the steps plus one, reported after
  // the VAE decode; each report before it ends a denoising step (the first also holds the text
  // encoding, so it is not counted as one).
  void OnStep(int done, int total);
  // The run ended (successfully or not): its duration and the peak resident memory since start.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;
  MetricsRegistry* metrics_;
  Labels labels_;
  Clock::time_point started_ = Clock::now();
  Clock::time_point last_report_ = started_;
  int last_done_ = 0;
  bool finished_ = false;
};

}  // namespace wanserve::providers
