#pragma once
// Drives tasks that run upstream to their end. Due polls are claimed from the store with a
// lease (no thread sleeps per task, so thousands can be in flight, and a restarted process
// resumes them); each poll updates progress and schedules the next, and a finished upstream
// task has its results downloaded into the blob store before the task succeeds.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "providers/registry.h"
#include "store/task_store.h"
#include "tasks/output_writer.h"

namespace wanserve::tasks {

struct PollerOptions {
  int threads = 2;                          // Default: 2 polls (or downloads) at once
  // Default: 45 s for one poll. A poll claimed by a process that died is retried after it;
  // downloads extend it by download_lease_ms.
  int64_t claim_lease_ms = 45'000;
  int64_t download_lease_ms = 600'000;      // Default: 10 min for the result files
  int64_t idle_ms = 250;                    // Default: look for due polls 4 times a second
  int64_t unconfigured_timeout_ms = 86'400'000;  // Default: 24 h, DashScope's task lifetime
  int64_t max_image_bytes = 50LL << 20;     // Default: 50 MiB per downloaded image
  int64_t max_video_bytes = 512LL << 20;    // Default: 512 MiB per downloaded video (held in memory)
};

class UpstreamPoller {
 public:
  UpstreamPoller(store::Store& store, providers::ProviderRegistry& providers, const OutputWriter& writer,
                 std::shared_ptr<Clock> clock, MetricsRegistry& metrics, PollerOptions options);
  ~UpstreamPoller();

  void Start();
  void Stop();
  // Called after a task reached a terminal state here (set before Start).
  void OnTaskFinished(std::function<void()> hook) { on_finished_ = std::move(hook); }

 private:
  void Loop();
  // Polls one claimed job; true when the task reached a terminal state.
  bool Handle(const store::UpstreamJob& job);
  bool Finish(const store::UpstreamJob& job, const providers::UpstreamStatus& status, providers::UpstreamApi& api);
  bool FailTask(const store::UpstreamJob& job, ErrorCode code, std::string detail, std::string message);
  // wanserve_task_outcomes_total for a task this poller ended.
  void CountOutcome(const store::UpstreamJob& job, std::string_view outcome, std::string_view code);
  void Reschedule(const store::UpstreamJob& job, const std::string& status, int64_t delay_ms);

  store::Store& store_;
  providers::ProviderRegistry& providers_;
  const OutputWriter& writer_;
  std::shared_ptr<Clock> clock_;
  MetricsRegistry& metrics_;
  PollerOptions options_;
  std::function<void()> on_finished_;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
};

}  // namespace wanserve::tasks
