#pragma once
// Delivers the callback outbox: claims due deliveries, renders each task's body in its
// dialect, signs it, POSTs it through the guarded OutboundClient and records the attempt. A 2xx
// answer delivers; anything else is retried on the schedule (the seeds' 1 s, 2 s, 4 s by
// default) and then given up. Delivery is at least once: a crash between sending and recording
// sends again after the claim's lease, with the same webhook-id.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "net/outbound_client.h"
#include "store/task_store.h"

namespace wanserve::callbacks {

struct CallbackPayload {
  std::string body;            // JSON
  // When set, the kie.ai-style X-Webhook-Timestamp / X-Webhook-Signature headers are added too,
  // signing "<signed_task_id>.<timestamp>".
  std::string signed_task_id;
};

// The body of a task's callback, in the task's dialect.
using PayloadRenderer =
    std::function<Result<CallbackPayload>(const core::Task& task, const store::CallbackDelivery& delivery)>;

struct CallbackOptions {
  std::vector<int64_t> retry_delays_ms = {1000, 2000, 4000};  // Default: the seeds' schedule
  int64_t timeout_ms = 10'000;  // Default: 10 s per attempt, as the seeds say
  int64_t poll_ms = 250;        // Default: 0.25 s; also woken when a task finishes here
  int max_in_flight = 32;       // Default: 32 deliveries at once per process
  bool require_https = true;    // Default: https only (seed rule)
};

class CallbackDispatcher {
 public:
  CallbackDispatcher(store::Store& store, net::OutboundClient& client, PayloadRenderer render,
                     std::shared_ptr<Clock> clock, MetricsRegistry& metrics, CallbackOptions options);
  ~CallbackDispatcher();

  void Start();
  // Stops claiming and waits (at most one attempt's timeout) for deliveries in flight.
  void Stop();
  // A task just finished: look at the outbox now.
  void Notify();

 private:
  struct Finished {
    store::CallbackDelivery delivery;
    int64_t started_ms = 0;
    Result<net::OutboundResponse> result;
  };
  // Outlives the dispatcher when a transfer is still running at destruction.
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Finished> finished;
    bool wake = false;
  };

  void Loop();
  void Send(const store::CallbackDelivery& delivery);
  void Record(Finished f);
  Result<net::OutboundRequest> BuildRequest(const store::CallbackDelivery& delivery);

  store::Store& store_;
  net::OutboundClient& client_;
  PayloadRenderer render_;
  std::shared_ptr<Clock> clock_;
  MetricsRegistry& metrics_;
  CallbackOptions options_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  int in_flight_ = 0;           // loop thread only
  int64_t next_retry_ms_ = 0;   // earliest retry this process scheduled; loop thread only
  bool stopping_ = false;       // guarded by shared_->mu
  std::thread thread_;
};

}  // namespace wanserve::callbacks
