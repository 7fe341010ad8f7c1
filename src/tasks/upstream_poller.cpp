#include "tasks/upstream_poller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tasks/task_metrics.h"

namespace wanserve::tasks {

using providers::UpstreamPhase;
using store::UpstreamJob;

namespace {

store::LeaseToken PollerLease(const UpstreamJob& job) { return {job.task_id, store::kUpstreamOwner, job.attempt}; }

// Upstream reports no progress: it climbs from 10 towards 90 with the time spent running.
int RunningProgress(int64_t elapsed_ms) {
  const double e = static_cast<double>(std::max<int64_t>(elapsed_ms, 0));
  return 10 + static_cast<int>(80.0 * e / (e + 60'000.0));
}

}  // namespace

UpstreamPoller::UpstreamPoller(store::Store& store, providers::ProviderRegistry& providers,
                               const OutputWriter& writer, std::shared_ptr<Clock> clock, MetricsRegistry& metrics,
                               PollerOptions options)
    : store_(store),
      providers_(providers),
      writer_(writer),
      clock_(std::move(clock)),
      metrics_(metrics),
      options_(options) {
  metrics_.Describe("wanserve_upstream_polls_total", "counter", "Polls of upstream tasks, by provider and outcome");
  DescribeTaskOutcomes(metrics_);
}

void UpstreamPoller::CountOutcome(const store::UpstreamJob& job, std::string_view outcome, std::string_view code) {
  // The job does not carry the model: one read per finished task (polls are far more).
  auto task = store_.Get(job.task_id);
  CountTaskOutcome(metrics_, task.ok() ? task->request.model : "", job.provider, outcome, code);
}

UpstreamPoller::~UpstreamPoller() { Stop(); }

void UpstreamPoller::Start() {
  for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { Loop(); });
}

void UpstreamPoller::Stop() {
  if (stopping_.exchange(true)) return;
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void UpstreamPoller::Loop() {
  while (!stopping_) {
    // One job at a time: a claim held by a process that dies delays only that job.
    auto jobs = store_.ClaimDuePolls(clock_->NowMs(), options_.claim_lease_ms, 1);
    if (!jobs.ok()) spdlog::warn("claiming upstream polls failed: {}", jobs.error().message);
    bool finished = false;
    for (const auto& job : jobs.ok() ? *jobs : std::vector<UpstreamJob>{}) {
      if (stopping_) {
        // Claimed but not polled: due again at once for whoever runs next.
        Reschedule(job, job.last_status, 0);
        continue;
      }
      finished |= Handle(job);
    }
    if (finished && on_finished_) on_finished_();
    if (jobs.ok() && !jobs->empty()) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(options_.idle_ms), [&] { return stopping_.load(); });
  }
}

void UpstreamPoller::Reschedule(const UpstreamJob& job, const std::string& status, int64_t delay_ms) {
  auto st = store_.RecordPoll(job, status, "", clock_->NowMs() + delay_ms);
  if (!st.ok()) spdlog::warn("task={} poll not recorded: {}", job.task_id, st.error().message);
}

bool UpstreamPoller::FailTask(const UpstreamJob& job, ErrorCode code, std::string detail, std::string message) {
  const std::string detail_for_metrics = detail;
  auto st = store_.Fail(PollerLease(job), {code, std::move(detail), std::move(message)}, clock_->NowMs());
  if (!st.ok()) return false;
  spdlog::info("task={} failed upstream on {}", job.task_id, job.provider);
  metrics_.Increment("wanserve_tasks_finished_total", {{"state", "failed"}});
  CountOutcome(job, "failed", detail_for_metrics);
  return true;
}

bool UpstreamPoller::Handle(const UpstreamJob& job) {
  providers::Provider* provider = providers_.Find(job.provider);
  providers::UpstreamApi* api = provider ? provider->Upstream() : nullptr;
  const int64_t now = clock_->NowMs();
  if (!api) {
    // Configuration changed while tasks were in flight: keep them until the upstream would
    // have forgotten them, in case the provider comes back.
    if (now - job.submitted_ms > options_.unconfigured_timeout_ms) {
      return FailTask(job, ErrorCode::kUnavailable, "provider_not_configured",
                      fmt::format("provider {} is no longer configured", job.provider));
    }
    spdlog::warn("task={} waits for provider {}, which is not configured", job.task_id, job.provider);
    Reschedule(job, job.last_status, 60'000);
    return false;
  }
  if (job.cancel_requested) {
    // Only a task that has not started can be canceled upstream; a running one is abandoned.
    if (auto st = api->Cancel(job.upstream_id); !st.ok()) {
      spdlog::info("task={} abandoned upstream ({})", job.task_id, st.error().message);
    }
    if (!store_.FinishCanceled(PollerLease(job), now).ok()) return false;
    metrics_.Increment("wanserve_tasks_finished_total", {{"state", "canceled"}});
    CountOutcome(job, "canceled", "");
    return true;
  }
  if (now - job.submitted_ms > api->TaskTimeoutMs()) {
    (void)api->Cancel(job.upstream_id);
    return FailTask(job, ErrorCode::kTimeout, "upstream_timeout",
                    fmt::format("{} did not finish the task within {} s", job.provider, api->TaskTimeoutMs() / 1000));
  }
  auto status = api->Poll(job.upstream_id);
  if (!status.ok()) {
    if (status.error().code != ErrorCode::kRateLimited) providers_.ReportFault(job.provider);
    metrics_.Increment("wanserve_upstream_polls_total", {{"provider", job.provider}, {"outcome", "error"}});
    spdlog::warn("task={} poll of {} failed: {}", job.task_id, job.provider, status.error().message);
    // Backing off: twice the schedule's delay after a failure.
    Reschedule(job, job.last_status, 2 * api->PollDelayMs(job.polls));
    return false;
  }
  providers_.ReportHealthy(job.provider);
  metrics_.Increment("wanserve_upstream_polls_total", {{"provider", job.provider}, {"outcome", "ok"}});
  switch (status->phase) {
    case UpstreamPhase::kPending:
    case UpstreamPhase::kRunning: {
      const int progress = status->phase == UpstreamPhase::kPending ? 5 : RunningProgress(now - job.submitted_ms);
      (void)store_.UpdateProgress(PollerLease(job), progress, now);
      Reschedule(job, status->raw_status, api->PollDelayMs(job.polls));
      return false;
    }
    case UpstreamPhase::kSucceeded:
      return Finish(job, *status, *api);
    case UpstreamPhase::kFailed:
      return FailTask(job, status->error.code, status->error.detail_code, status->error.message);
    case UpstreamPhase::kCanceled:
      return FailTask(job, ErrorCode::kUpstreamFailed, "upstream_canceled", "the task was canceled upstream");
    case UpstreamPhase::kUnknown:
      break;
  }
  return FailTask(job, ErrorCode::kUpstreamFailed, "upstream_task_unknown",
                  "the upstream no longer knows the task (it expired or never existed)");
}

bool UpstreamPoller::Finish(const UpstreamJob& job, const providers::UpstreamStatus& status,
                            providers::UpstreamApi& api) {
  if (status.results.empty()) {
    return FailTask(job, ErrorCode::kUpstreamFailed, "upstream_no_output", "the upstream succeeded without a result");
  }
  // Upstream links die after a day: the task succeeds only once the files are ours. The claim
  // is extended to cover the downloads.
  if (!store_.RecordPoll(job, status.raw_status, status.usage_json, clock_->NowMs() + options_.download_lease_ms)
           .ok()) {
    return false;
  }
  std::vector<std::string> files;
  for (const auto& result : status.results) {
    auto bytes = api.Download(result.url, result.video ? options_.max_video_bytes : options_.max_image_bytes);
    if (!bytes.ok()) {
      spdlog::warn("task={} result download failed, retrying: {}", job.task_id, bytes.error().message);
      Reschedule(job, status.raw_status, 2 * api.PollDelayMs(job.polls));
      return false;
    }
    files.push_back(std::move(bytes).value());
  }
  auto outputs = writer_.Keep(job.task_id, job.attempt, files);
  if (!outputs.ok()) return FailTask(job, outputs.error().code, outputs.error().detail_code, outputs.error().message);
  const int64_t now = clock_->NowMs();
  if (auto st = store_.Complete(PollerLease(job), *outputs, now); !st.ok()) {
    writer_.Discard(*outputs);
    spdlog::warn("task={} finished upstream but could not be recorded: {}", job.task_id, st.error().message);
    return false;
  }
  spdlog::info("task={} succeeded on {} with {} output(s)", job.task_id, job.provider, outputs->size());
  // A poller presumed dead may have stored the same results under keys of its own.
  if (auto swept = writer_.DiscardOthers(job.task_id, *outputs); !swept.ok()) {
    spdlog::warn("task={} files of other pollers not swept yet: {}", job.task_id, swept.error().message);
  }
  metrics_.Increment("wanserve_tasks_finished_total", {{"state", "succeeded"}});
  CountOutcome(job, "succeeded", "");
  return true;
}

}  // namespace wanserve::tasks
