#pragma once
// Workers claim queued tasks with a lease and try the providers routed for the model in order:
// a local provider runs the task here (outputs written, task finished with a compare-and-swap);
// an upstream provider gets the task created there and hands it to the UpstreamPoller. A
// refusal that created nothing upstream falls through to the next provider. A lease keeper
// renews leases and relays cancel requests; a recovery pass puts tasks of dead workers back in
// the queue.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "billing/price_table.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "media/inputs.h"
#include "providers/registry.h"
#include "store/task_store.h"
#include "tasks/output_writer.h"

namespace wanserve::tasks {

struct WorkerOptions {
  int workers = 1;                   // Default: 1 concurrent task per process
  int64_t lease_ms = 30'000;         // Default: 30 s; a crashed worker's task is retried after it
  int64_t renew_every_ms = 5'000;    // Default: 5 s
  int max_attempts = 3;              // Default: 3 claims before the task fails
  int64_t poll_ms = 500;             // Default: 0.5 s; also woken by local submits
  int64_t progress_every_ms = 500;   // Default: persist progress at most twice a second
  int64_t recovery_every_ms = 2'000; // Default: 2 s
  std::string owner_id;              // unique per process; generated when empty
  // Claim only tasks whose model and kind a provider here serves (a store shared by nodes with
  // different providers); off: claim any, and fail what nothing here can run (one node).
  bool claim_only_served = false;
};

class WorkerPool {
 public:
  WorkerPool(store::Store& store, providers::ProviderRegistry& providers,
             const OutputWriter& writer, std::shared_ptr<Clock> clock, MetricsRegistry& metrics,
             WorkerOptions options);
  ~WorkerPool();

  void Start();
  // Stops claiming, interrupts running providers and hands their tasks back to the queue.
  void Stop();
  // Wakes an idle worker (a task was just submitted).
  void Notify();
  // Called after a task this pool ran reached a terminal state (set before Start).
  void OnTaskFinished(std::function<void()> hook) { on_finished_ = std::move(hook); }
  // Fetches and validates input media before a task runs (set before Start); without it,
  // tasks run on their request alone.
  void UseInputs(const media::InputFetcher* inputs) { inputs_ = inputs; }
  // Settles holds priced before the inputs were known (set before Start); without it, holds
  // stay as they were priced at submit.
  void UsePrices(const billing::PriceTable* prices) { prices_ = prices; }

 private:
  struct Running {
    store::LeaseToken lease;
    std::atomic<bool> cancel{false};
    std::atomic<bool> lost{false};
    std::string provider;  // the provider trying the task now (written and read by its worker)
  };

  void WorkerLoop(int index);
  void KeeperLoop();
  enum class Handoff { kDone, kTryNext };

  void Execute(core::Task task, const std::string& owner);
  // Runs the task here; kTryNext (with *failure set, nothing recorded) when the provider itself
  // failed (its engine unavailable or broken mid-run) and another provider may run it.
  Handoff RunLocally(const std::shared_ptr<Running>& run, const core::Task& task, providers::Provider& provider,
                     const media::PreparedInputs& inputs, bool last, Error* failure);
  // Creates the task upstream; kTryNext (with *refusal set) when the next provider may run it.
  Handoff SubmitUpstream(const std::shared_ptr<Running>& run, const core::Task& task, providers::Provider& provider,
                         Error* refusal);
  // Counts a task this worker ended, and sweeps the files earlier attempts left (kept: this
  // attempt's outputs).
  void Finished(const Running& run, const core::Task& task, std::string_view state, int64_t started_ms,
                const std::vector<core::Output>& kept = {});
  void SweepOtherAttempts(const core::Task& task, const std::vector<core::Output>& kept);
  bool EndedByThisAttempt(const store::LeaseToken& lease);
  // A terminal write (write: Complete, Fail or FinishCanceled of this run) that outlives a lost
  // database connection: retried while the store is unavailable, within the lease. When a retry
  // finds the task already ended, ended_as_ours (given the task as stored) tells whether the
  // earlier try committed before its answer was lost: then the write is done.
  Status WriteTerminal(const std::string& task_id, const std::function<Status()>& write,
                       const std::function<bool(const core::Task&)>& ended_as_ours);
  void FinishWithError(const std::shared_ptr<Running>& run, const core::Task& task, const Error& e);
  void Recover();
  // Lowers the task's hold to its price on the probed inputs, where that is less.
  void SettlePriceOnInputs(const std::shared_ptr<Running>& run, const core::Task& task,
                           const media::PreparedInputs& inputs);

  store::Store& store_;
  providers::ProviderRegistry& providers_;
  const OutputWriter& writer_;
  std::shared_ptr<Clock> clock_;
  MetricsRegistry& metrics_;
  WorkerOptions options_;
  std::function<void()> on_finished_;
  const media::InputFetcher* inputs_ = nullptr;
  const billing::PriceTable* prices_ = nullptr;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t wakeups_ = 0;
  std::map<std::string, std::shared_ptr<Running>> running_;
  std::vector<std::thread> threads_;
};

}  // namespace wanserve::tasks
