#pragma once
// Delivers the callback outbox: claims due deliveries, renders each task's body in its
// dialect, signs it, POSTs it through the guarded OutboundClient and records the attempt. A 2xx
// answer delivers; anything else is retried on the schedule (the seeds' 1 s, 2 s, 4 s by
// default), then, where the operator enables it, at doubling intervals for up to retry_for_ms,
// and then given up: the delivery stays in the outbox as a dead letter until resent. Each
// receiving endpoint's failure streak is recorded; one failing for disable_endpoint_after_ms is
// disabled (its deliveries become dead letters at once) until an operator enables it. Delivery
// is at least once: a crash between sending and recording sends again after the claim's lease,
// with the same webhook-id.
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
  // After the schedule: retries at doubling intervals (from twice its last delay, at most
  // kLongestRetryGapMs apart) while within this long of the delivery's creation. Default: 0,
  // the schedule alone.
  int64_t retry_for_ms = 0;
  // An endpoint whose failures have lasted this long is disabled. Default: a day; 0 = never.
  int64_t disable_endpoint_after_ms = 24LL * 3600 * 1000;
};

inline constexpr int64_t kLongestRetryGapMs = 2LL * 3600 * 1000;

// The endpoint a callback URL belongs to: the URL without its query and fragment.
std::string CallbackEndpointOf(const std::string& url);

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
    // Not sent: the request could not be built, or its endpoint is disabled (no retry then).
    bool sent = true;
    bool endpoint_disabled = false;
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
  // When a failed attempt is tried again; 0 = given up.
  int64_t RetryAt(const store::CallbackDelivery& delivery, int64_t now_ms) const;
  void RecordEndpoint(const store::CallbackDelivery& delivery, bool delivered, const std::string& error, int64_t now_ms);
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
