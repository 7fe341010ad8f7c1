#include "tasks/worker_pool.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/crypto.h"
#include "tasks/task_metrics.h"

namespace wanserve::tasks {

using core::Task;

WorkerPool::WorkerPool(store::Store& store, providers::ProviderRegistry& providers,
                       const OutputWriter& writer, std::shared_ptr<Clock> clock,
                       MetricsRegistry& metrics, WorkerOptions options)
    : store_(store),
      providers_(providers),
      writer_(writer),
      clock_(std::move(clock)),
      metrics_(metrics),
      options_(std::move(options)) {
  if (options_.owner_id.empty()) {
    options_.owner_id = fmt::format("pid{}-{}", ::getpid(), RandomString(6, "abcdefghijklmnopqrstuvwxyz0123456789"));
  }
  metrics_.Describe("wanserve_tasks_finished_total", "counter", "Tasks that reached a terminal state in this process");
  metrics_.Describe("wanserve_task_duration_seconds", "histogram", "Run time of finished tasks, claim to terminal state");
  metrics_.Describe("wanserve_tasks_recovered_total", "counter", "Tasks whose worker vanished, by outcome");
  DescribeTaskOutcomes(metrics_);
  metrics_.Describe("wanserve_task_queue_wait_seconds", "histogram", "Submit to first claim, by model");
  metrics_.Describe("wanserve_provider_fallbacks_total", "counter",
                    "Tasks a provider could not take, handed to the route's next provider");
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  Recover();
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { WorkerLoop(i); });
  threads_.emplace_back([this] { KeeperLoop(); });
}

void WorkerPool::Stop() {
  if (stopping_.exchange(true)) return;
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void WorkerPool::Notify() {
  {
    std::lock_guard lock(mu_);
    ++wakeups_;
  }
  cv_.notify_one();
}

void WorkerPool::Recover() {
  auto report = store_.RecoverExpiredLeases(clock_->NowMs(), options_.max_attempts);
  if (!report.ok()) {
    spdlog::warn("lease recovery failed: {}", report.error().message);
    return;
  }
  if (report->requeued || report->failed) {
    spdlog::info("recovered tasks of vanished workers: {} requeued, {} failed after {} attempts",
                 report->requeued, report->failed, options_.max_attempts);
    metrics_.Increment("wanserve_tasks_recovered_total", {{"outcome", "requeued"}}, report->requeued);
    metrics_.Increment("wanserve_tasks_recovered_total", {{"outcome", "failed"}}, report->failed);
    if (report->failed && on_finished_) on_finished_();
  }
}

void WorkerPool::WorkerLoop(int index) {
  const std::string owner = fmt::format("{}/w{}", options_.owner_id, index);
  const std::vector<std::string> routes = options_.claim_only_served ? providers_.Routes() : std::vector<std::string>{};
  if (options_.claim_only_served && routes.empty()) {
    if (index == 0) spdlog::warn("no provider here serves any model: this node claims no tasks");
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopping_.load(); });
    return;
  }
  while (!stopping_) {
    auto claimed = store_.ClaimNextOf(owner, clock_->NowMs(), options_.lease_ms, routes);
    if (claimed.ok() && claimed->has_value()) {
      Execute(std::move(**claimed), owner);
      continue;
    }
    if (!claimed.ok()) spdlog::warn("claim failed: {}", claimed.error().message);
    std::unique_lock lock(mu_);
    const uint64_t seen = wakeups_;
    cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                 [&] { return stopping_ || wakeups_ != seen; });
  }
}

void WorkerPool::KeeperLoop() {
  int64_t last_recovery = clock_->NowMs();
  while (!stopping_) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(std::min(options_.renew_every_ms, options_.recovery_every_ms)),
                   [&] { return stopping_.load(); });
    }
    if (stopping_) break;
    std::vector<std::shared_ptr<Running>> runs;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, run] : running_) runs.push_back(run);
    }
    for (auto& run : runs) {
      auto renewed = store_.RenewLease(run->lease, clock_->NowMs(), options_.lease_ms);
      if (renewed.ok()) {
        if (*renewed) run->cancel = true;
      } else if (renewed.error().code == ErrorCode::kConflict && !EndedByThisAttempt(run->lease)) {
        spdlog::warn("task={} lease lost; abandoning this attempt", run->lease.task_id);
        metrics_.Increment("wanserve_leases_lost_total");
        run->lost = true;
      }
    }
    if (clock_->NowMs() - last_recovery >= options_.recovery_every_ms) {
      Recover();
      last_recovery = clock_->NowMs();
    }
  }
}

// A renewal refused because this attempt itself just ended the task (the keeper took its list
// of runs before the worker finished) is no lease loss: the task is terminal, or handed to the
// upstream poller, at this very attempt. A lost lease shows as a task queued again or claimed
// by another attempt.
bool WorkerPool::EndedByThisAttempt(const store::LeaseToken& lease) {
  auto task = store_.Get(lease.task_id);
  if (!task.ok()) return false;
  return task->attempts == lease.attempt &&
         (core::IsTerminal(task->state) || task->lease_owner == store::kUpstreamOwner);
}

void WorkerPool::FinishWithError(const std::shared_ptr<Running>& run, const Task& task,
                                 const Error& e) {
  core::TaskError err{e.code, e.detail_code.empty() ? std::string(ToString(e.code)) : e.detail_code,
                      e.message};
  auto st = WriteTerminal(
      task.id, [&] { return store_.Fail(run->lease, err, clock_->NowMs()); },
      [&](const Task& stored) { return stored.state == core::TaskState::kFailed && stored.error == err; });
  if (st.ok()) {
    spdlog::info("task={} failed: {} ({})", task.id, err.detail_code, err.message);
    metrics_.Increment("wanserve_tasks_finished_total", {{"state", "failed"}});
    CountTaskOutcome(metrics_, task.request.model, run->provider, "failed", err.detail_code);
    SweepOtherAttempts(task, {});
  }
}

Status WorkerPool::WriteTerminal(const std::string& task_id, const std::function<Status()>& write,
                                 const std::function<bool(const Task&)>& ended_as_ours) {
  const int64_t give_up_ms = clock_->NowMs() + options_.lease_ms;
  bool ambiguous = false;
  for (int64_t backoff_ms = 100;; backoff_ms = std::min<int64_t>(backoff_ms * 2, 2000)) {
    Status st = write();
    if (st.ok()) return st;
    if (st.error().code == ErrorCode::kConflict && ambiguous) {
      auto stored = store_.Get(task_id);
      if (stored.ok() && ended_as_ours(*stored)) return Status::Ok();
      return st;
    }
    if (st.error().code != ErrorCode::kUnavailable || clock_->NowMs() + backoff_ms > give_up_ms) return st;
    spdlog::warn("task={} could not be recorded yet ({}); retrying", task_id, st.error().message);
    ambiguous = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
  }
}

void WorkerPool::Finished(const Running& run, const Task& task, std::string_view state, int64_t started_ms,
                          const std::vector<core::Output>& kept) {
  metrics_.Increment("wanserve_tasks_finished_total", {{"state", std::string(state)}});
  CountTaskOutcome(metrics_, task.request.model, run.provider, state, "");
  metrics_.Observe("wanserve_task_duration_seconds", {{"kind", std::string(core::ToString(task.request.kind))}},
                   static_cast<double>(clock_->NowMs() - started_ms) / 1000.0);
  SweepOtherAttempts(task, kept);
}

// An attempt that crashed or lost its lease may have stored files before it stopped; they are
// nobody's once the task is over. What this misses (an attempt still writing after its task
// ended) the output sweeper's reconciliation finds.
void WorkerPool::SweepOtherAttempts(const Task& task, const std::vector<core::Output>& kept) {
  if (task.attempts <= 1) return;
  auto swept = writer_.DiscardOthers(task.id, kept);
  if (!swept.ok()) {
    spdlog::warn("task={} files of earlier attempts not swept yet: {}", task.id, swept.error().message);
  } else if (*swept > 0) {
    spdlog::info("task={} swept {} file(s) of earlier attempts", task.id, *swept);
    metrics_.Increment("wanserve_orphan_files_swept_total", {}, *swept);
  }
}

void WorkerPool::Execute(Task task, const std::string& owner) {
  auto run = std::make_shared<Running>();
  run->lease = {task.id, owner, task.attempts};
  run->cancel = task.cancel_requested;
  {
    std::lock_guard lock(mu_);
    running_[task.id] = run;
  }
  spdlog::info("task={} claimed by {} (attempt {})", task.id, owner, task.attempts);
  if (task.attempts == 1) {
    metrics_.Observe("wanserve_task_queue_wait_seconds", {{"model", task.request.model}},
                     static_cast<double>(clock_->NowMs() - task.created_ms) / 1000.0);
  }

  auto candidates = providers_.Candidates(task.request);
  // An earlier attempt may have sent a create request whose answer was lost: that provider is
  // not asked again, so the task can never be created upstream twice.
  auto earlier = store_.FindUpstreamJob(task.id);
  if (candidates.ok() && !earlier.ok()) candidates = earlier.error();
  if (candidates.ok() && earlier->has_value()) {
    std::erase_if(*candidates, [&](providers::Provider* p) { return p->Name() == (*earlier)->provider; });
    if (candidates->empty()) {
      Error e = MakeError(ErrorCode::kUnavailable,
                          fmt::format("the create request to {} was sent but its answer was lost; it is not sent again",
                                      (*earlier)->provider));
      e.detail_code = std::string(providers::kOutcomeUnknown);
      candidates = e;
    }
  }
  Result<media::PreparedInputs> inputs = media::PreparedInputs{};
  if (candidates.ok() && inputs_) inputs = inputs_->Prepare(task.id, task.request);
  if (!candidates.ok()) {
    FinishWithError(run, task, candidates.error());
  } else if (!inputs.ok()) {
    // Bad input media fail the task before any generation; the hold is released.
    FinishWithError(run, task, inputs.error());
  } else {
    SettlePriceOnInputs(run, task, *inputs);
    Error refusal = MakeError(ErrorCode::kUnavailable, "no provider could take the task");
    bool handled = false;
    for (size_t i = 0; i < candidates->size() && !handled; ++i) {
      providers::Provider& provider = *(*candidates)[i];
      run->provider = provider.Name();
      const Handoff handoff = provider.Upstream()
                                  ? SubmitUpstream(run, task, provider, &refusal)
                                  : RunLocally(run, task, provider, *inputs, i + 1 == candidates->size(), &refusal);
      handled = handoff == Handoff::kDone;
      if (!handled) {
        spdlog::warn("task={} {} could not take it: {}; trying the next provider", task.id, provider.Name(),
                     refusal.message);
        if (i + 1 < candidates->size()) {
          metrics_.Increment("wanserve_provider_fallbacks_total", {{"provider", std::string(provider.Name())}});
        }
      }
    }
    if (!handled && !run->lost) FinishWithError(run, task, refusal);
  }
  if (inputs_) inputs_->Cleanup(task.id);
  {
    std::lock_guard lock(mu_);
    running_.erase(task.id);
  }
  if (on_finished_) on_finished_();
}

void WorkerPool::SettlePriceOnInputs(const std::shared_ptr<Running>& run, const Task& task,
                                     const media::PreparedInputs& inputs) {
  if (!prices_ || !inputs.video || task.request.kind != core::RequestKind::kVideoEdit) return;
  const int64_t price = billing::PriceFor(*prices_, media::ApplyInputs(task.request, inputs), inputs.video->info.duration_s);
  if (price >= task.usage.total) return;
  auto usage = store_.LowerHold(run->lease, price, clock_->NowMs());
  if (usage.ok()) {
    spdlog::info("task={} priced {} on its {:.1f} s input (held {})", task.id, usage->total,
                 inputs.video->info.duration_s, task.usage.total);
  } else {
    // The hold stays as it was; the task still runs and is charged what was held at most.
    spdlog::warn("task={} hold not lowered: {}", task.id, usage.error().message);
  }
}

WorkerPool::Handoff WorkerPool::SubmitUpstream(const std::shared_ptr<Running>& run, const Task& task,
                                               providers::Provider& provider, Error* refusal) {
  if (run->cancel) {
    if (store_.FinishCanceled(run->lease, clock_->NowMs()).ok()) Finished(*run, task, "canceled", clock_->NowMs());
    return Handoff::kDone;
  }
  providers::UpstreamApi& api = *provider.Upstream();
  const std::string name(provider.Name());
  // The intent is durable before the request leaves, so a crash in between is visible.
  if (auto st = store_.BeginUpstreamSubmit(run->lease, name, clock_->NowMs()); !st.ok()) {
    spdlog::warn("task={} not submitted to {}: {}", task.id, name, st.error().message);
    return Handoff::kDone;
  }
  auto upstream_id = api.Submit(task.request);
  if (upstream_id.ok()) {
    providers_.ReportHealthy(name);
    const int64_t now = clock_->NowMs();
    auto st = store_.RecordUpstreamSubmitted(run->lease, *upstream_id, now + api.PollDelayMs(0), now);
    if (st.ok()) {
      spdlog::info("task={} created on {} as {}", task.id, name, *upstream_id);
    } else {
      spdlog::error("task={} created on {} as {} but not recorded: {}", task.id, name, *upstream_id,
                    st.error().message);
    }
    return Handoff::kDone;
  }
  const Error& e = upstream_id.error();
  const bool unknown = e.detail_code == providers::kOutcomeUnknown;
  // A refusal created nothing: forget the intent so another attempt may submit again.
  if (!unknown) (void)store_.AbandonUpstreamSubmit(run->lease);
  if (providers::IsConfigurationFault(e)) {
    // The operator's account or key: fail loudly rather than hide it behind another provider.
    spdlog::error("task={} {} refused this server's configuration: {}", task.id, name, e.message);
    providers_.ReportConfigurationFault(name, e.message);
  }
  if (!providers::MayTryNextProvider(e)) {
    FinishWithError(run, task, e);
    return Handoff::kDone;
  }
  if (e.code != ErrorCode::kRateLimited) providers_.ReportFault(name);
  *refusal = e;
  return Handoff::kTryNext;
}

WorkerPool::Handoff WorkerPool::RunLocally(const std::shared_ptr<Running>& run, const Task& task,
                                           providers::Provider& provider, const media::PreparedInputs& inputs,
                                           bool last, Error* failure) {
  const int64_t started = clock_->NowMs();
  (void)store_.SetProvider(run->lease, std::string(provider.Name()));
  int64_t last_progress_ms = 0;
  int last_progress = 0;
  auto on_progress = [&](int percent) {
    // The last few percent are left for encoding and storing the outputs.
    const int p = std::clamp(percent * 95 / 100, 0, 95);
    const int64_t now = clock_->NowMs();
    if (p == last_progress || now - last_progress_ms < options_.progress_every_ms) return;
    if (store_.UpdateProgress(run->lease, p, now).ok()) {
      last_progress = p;
      last_progress_ms = now;
    }
  };
  auto canceled = [&] { return run->cancel || run->lost || stopping_; };
  const core::GenerationRequest request = media::ApplyInputs(task.request, inputs);
  auto media = provider.Run(request, inputs, on_progress, canceled);
  if (run->lost) {
    // Another worker owns the task now; nothing of this attempt may be recorded.
  } else if (!media.ok() && media.error().code == ErrorCode::kCanceled) {
    if (run->cancel) {
      if (store_.FinishCanceled(run->lease, clock_->NowMs()).ok()) {
        spdlog::info("task={} canceled while running", task.id);
        Finished(*run, task, "canceled", started);
      }
    } else if (stopping_) {
      (void)store_.Release(run->lease, clock_->NowMs());
      spdlog::info("task={} handed back to the queue (shutting down)", task.id);
    }
  } else if (!media.ok() && !last &&
             (media.error().code == ErrorCode::kUnavailable || media.error().code == ErrorCode::kInternal)) {
    // The provider's own fault (its engine would not load, or broke mid-run): the next one may
    // run the task. The breaker counts it like an upstream fault.
    providers_.ReportFault(provider.Name());
    *failure = media.error();
    return Handoff::kTryNext;
  } else if (!media.ok()) {
    FinishWithError(run, task, media.error());
  } else {
    auto outputs = writer_.Write(task.id, run->lease.attempt, *media);
    if (!outputs.ok()) {
      FinishWithError(run, task, outputs.error());
    } else if (auto done = WriteTerminal(
                   task.id, [&] { return store_.Complete(run->lease, *outputs, clock_->NowMs()); },
                   [&](const Task& stored) {
                     return stored.state == core::TaskState::kSucceeded && stored.outputs == *outputs;
                   });
               done.ok()) {
      spdlog::info("task={} succeeded with {} output(s) on {} in {:.1f} s, {:.1f} s after its submit", task.id,
                   outputs->size(), provider.Name(), static_cast<double>(clock_->NowMs() - started) / 1000.0,
                   static_cast<double>(clock_->NowMs() - task.created_ms) / 1000.0);
      Finished(*run, task, "succeeded", started, *outputs);
    } else {
      writer_.Discard(*outputs);
      spdlog::warn("task={} finished but could not be recorded: {}", task.id, done.error().message);
    }
  }
  return Handoff::kDone;
}

}  // namespace wanserve::tasks
