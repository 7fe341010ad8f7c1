#pragma once
// The callback outbox. A delivery row is written in the same transaction that makes a task
// terminal (when the task or its account names a callback URL), so a finished task never loses
// its notification; dispatchers claim due rows with a lease and record every attempt.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wanserve::store {

enum class DeliveryState { kPending, kDelivered, kFailed };

// "pending", "delivered", "failed" (a dead letter once given up).
inline std::string_view ToString(DeliveryState state) {
  switch (state) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
  }
  return "unknown";
}

struct CallbackDelivery {
  std::string id;  // the webhook-id: the same on every attempt of this delivery
  std::string task_id;
  std::string account_id;
  std::string url;
  std::string event;  // "task.completed" | "task.failed" | "task.canceled"
  DeliveryState state = DeliveryState::kPending;
  int attempts = 0;   // attempts started so far
  int64_t next_attempt_ms = 0;
  int64_t created_ms = 0;
  int64_t finished_ms = 0;
  std::string resent_as;  // a given-up delivery sent again: the id of the new one
};

// A dead letter as the operator's listings show it: the delivery and how its last attempt went.
struct DeadLetter {
  CallbackDelivery delivery;
  int last_status_code = 0;  // 0: no HTTP answer
  std::string last_error;    // empty when no attempt was made
};

// How a receiving endpoint has answered lately. The endpoint is the URL without its query and
// fragment, so that tasks whose callback URLs differ only in a query share one.
struct CallbackEndpoint {
  std::string endpoint;
  int consecutive_failures = 0;
  int64_t failing_since_ms = 0;  // the first failure of the current streak; 0 after a success
  int64_t last_attempt_ms = 0;
  std::string last_error;
  int64_t disabled_ms = 0;  // when it was disabled for failing too long; 0 = enabled
};

struct CallbackAttempt {
  std::string callback_id;
  int attempt = 0;       // 1 = the first try
  int64_t started_ms = 0;
  int64_t latency_ms = 0;
  int status_code = 0;   // 0 = no HTTP answer
  std::string error;     // empty on a 2xx
};

class CallbackStore {
 public:
  virtual ~CallbackStore() = default;
  // Claims up to limit pending deliveries due at now_ms: each one's attempts counts up and its
  // next attempt moves to now_ms + lease_ms, so no other dispatcher sends it meanwhile (and a
  // dispatcher that dies mid-attempt is covered: the row comes due again).
  virtual Result<std::vector<CallbackDelivery>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms, int limit) = 0;
  // Records an attempt of a claimed delivery and its outcome: delivered, retry at retry_at_ms,
  // or given up (retry_at_ms = 0). kConflict when the claim was lost (another attempt began).
  virtual Status RecordCallbackAttempt(const CallbackAttempt& attempt, bool delivered, int64_t retry_at_ms,
                                       int64_t now_ms) = 0;
  virtual Result<std::vector<CallbackDelivery>> ListCallbacks(const std::string& task_id) = 0;
  virtual Result<std::vector<CallbackAttempt>> ListCallbackAttempts(const std::string& callback_id) = 0;
  // A new pending delivery (new id) of a finished task's event, to the URL of its last one.
  // kNotFound when the task has no callback; kConflict while it is not finished.
  virtual Result<CallbackDelivery> ResendCallback(const std::string& task_id, int64_t now_ms) = 0;

  // The dead letters: deliveries given up and not resent, oldest first, of one account (or of
  // all when account_id is empty), at most limit.
  virtual Result<std::vector<DeadLetter>> ListFailedCallbacks(const std::string& account_id, int limit) = 0;
  // Sends a dead letter again: a new pending delivery (new id) of the same task, event and URL,
  // recorded as its resent_as. kNotFound for an unknown id, kConflict for one that is not a
  // dead letter (pending, delivered, or resent already).
  virtual Result<CallbackDelivery> ResendFailedCallback(const std::string& callback_id, int64_t now_ms) = 0;

  // An attempt's result for its endpoint: a success ends a failure streak; a failure starts
  // or extends one, and a streak of disable_after_ms or more (0: never) disables the endpoint.
  // Returns the endpoint as it now stands.
  virtual Result<CallbackEndpoint> RecordEndpointResult(const std::string& endpoint, bool ok, const std::string& error,
                                                        int64_t now_ms, int64_t disable_after_ms) = 0;
  // std::nullopt for an endpoint never attempted.
  virtual Result<std::optional<CallbackEndpoint>> GetCallbackEndpoint(const std::string& endpoint) = 0;
  // Every endpoint attempted, disabled ones first, then by their failure streak.
  virtual Result<std::vector<CallbackEndpoint>> ListCallbackEndpoints() = 0;
  // Enables a disabled endpoint with a clean record. kNotFound for one never attempted.
  virtual Status EnableCallbackEndpoint(const std::string& endpoint) = 0;
};

}  // namespace wanserve::store
