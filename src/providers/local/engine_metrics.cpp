#include "providers/local/engine_metrics.h"

#include "common/process_stats.h"

namespace wanserve::providers {
namespace {

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void DescribeEngineMetrics(MetricsRegistry& metrics) {
  metrics.Describe("wanserve_engine_step_seconds", "histogram",
                   "one denoising step of the local engine (an edit's window changes include its VAE work)");
  metrics.Describe("wanserve_engine_decode_seconds", "histogram", "the VAE decode that ends a local engine run");
  metrics.Describe("wanserve_engine_run_seconds", "histogram",
                   "one local engine generation: text encoding, every step and the decode");
  metrics.Describe("wanserve_engine_load_seconds", "histogram", "loading a preset's weights onto its device");
  metrics.Describe("wanserve_engine_peak_resident_bytes", "gauge",
                   "the most resident memory of the process during the preset's last run (on the CPU the "
                   "engine's tensors; on a GPU its host side only)");
}

void RecordEngineLoad(MetricsRegistry* metrics, const std::string& preset, double seconds) {
  if (metrics != nullptr) metrics->Observe("wanserve_engine_load_seconds", {{"preset", preset}}, seconds);
}

EngineRunMeter::EngineRunMeter(MetricsRegistry* metrics, std::string preset, std::string placement)
    : metrics_(metrics), labels_{{"preset", std::move(preset)}, {"placement", std::move(placement)}} {
  if (metrics_ != nullptr) ResetPeakResidentMemory();
}

void EngineRunMeter::OnStep(int done, int total) {
  if (metrics_ == nullptr) return;
  const auto now = Clock::now();
  if (done == total) {
    metrics_->Observe("wanserve_engine_decode_seconds", labels_, Seconds(now - last_report_));
  } else if (done > last_done_ && last_done_ > 0) {
    metrics_->Observe("wanserve_engine_step_seconds", labels_, Seconds(now - last_report_));
  }
  last_done_ = done;
  last_report_ = now;
}

void EngineRunMeter::Finish() {
  if (metrics_ == nullptr || finished_) return;
  finished_ = true;
  metrics_->Observe("wanserve_engine_run_seconds", labels_, Seconds(Clock::now() - started_));
  if (auto stats = ReadProcessStats(); stats.ok()) {
    metrics_->SetGauge("wanserve_engine_peak_resident_bytes", labels_, static_cast<double>(stats->peak_resident_bytes));
  }
}

}  // namespace wanserve::providers
