#pragma once
// The callback outbox. A delivery row is written in the same transaction that makes a task
// terminal (when the task or its account names a callback URL), so a finished task never loses
// its notification; dispatchers claim due rows with a lease and record every attempt.
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::store {

enum class DeliveryState { kPending, kDelivered, kFailed };

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
};

}  // namespace wanserve::store
