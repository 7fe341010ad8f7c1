#pragma once
// Durable task storage. Every state change is a compare-and-swap on the current state, so two
// workers (or a worker and a canceling client) can never both win a transition.
//
// The isolation contract every backend gives (SQLite: one writer; PostgreSQL: row locks):
// - Each method is one transaction: all of its writes commit, or none do.
// - Submits of one account are serialised: the balances, the concurrency count and the key's
//   rate bucket and credit cap a submit is judged by cannot change before it commits, so
//   limits and balances hold however many API nodes submit at once.
// - A task's terminal transition, its ledger settlement, its upstream job's close and its
//   callback's outbox row commit together; the ledger allows one settlement per task.
// - Writes to a running task are fenced on lease owner and attempt (kConflict when lost).
// - A claim takes each queued task once, however many workers claim at once.
// Errors: kConflict means the compare-and-swap lost (do not retry the same write);
// kUnavailable means the database could not be reached or the transaction was aborted for
// contention or a failover: nothing was committed, and the caller may retry.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "core/task.h"
#include "store/callback_store.h"
#include "store/file_store.h"
#include "store/upstream_store.h"

namespace wanserve::store {

// Identifies one claim of a task: the worker that holds the lease and the attempt number.
struct LeaseToken {
  std::string task_id;
  std::string owner;
  int attempt = 0;
};

struct RecoveryReport {
  int requeued = 0;
  int failed = 0;
};

struct ExpiredOutputs {
  std::string task_id;
  std::vector<core::Output> outputs;
};

// A submit's Idempotency-Key header: the task is recorded under it for the key, unless a live
// record (made at or after since_ms) holds it already.
struct IdempotencyClaim {
  std::string idempotency_key;  // empty = none
  std::string request_hash;     // what the request was, to tell a replay from a reuse
  int64_t since_ms = 0;         // records older than this are expired and taken over
};

// The price of a task, held on its account when the task is inserted.
struct Hold {
  std::string account_id;
  int64_t amount = 0;  // credits; 0 = nothing to hold
  std::string key_id;  // whose limits apply (rate, credit cap); empty = none
  IdempotencyClaim idempotency = {};
};

// The task an Idempotency-Key names, and the hash of the request that made it.
struct IdempotentSubmit {
  std::string task_id;
  std::string request_hash;
};

// The detail_code of Insert's kConflict when the Idempotency-Key is already taken.
inline constexpr const char* kIdempotencyKeyTaken = "idempotency_key_taken";

// Stops its wake-ups when destroyed (TaskStore::WatchQueue).
class QueueWatch {
 public:
  virtual ~QueueWatch() = default;
};

class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Commits a new queued task and, in the same transaction, holds its price on the account:
  // subscription credits first (while unexpired), then permanent ones. Returns the split.
  // kInsufficientCredits (and no task) when the balances or the key's credit cap do not cover
  // it; kRateLimited when the key's submits-per-minute or the account's concurrent tasks are
  // at their limit; kConflict if the id exists, or with detail_code kIdempotencyKeyTaken (and
  // no task, nothing held) when hold.idempotency names a key a live record holds. Every way a
  // task ends settles the hold exactly once: success captures it, any other end releases it
  // to the balances it came from.
  virtual Result<core::Usage> Insert(const core::Task& task, const Hold& hold) = 0;
  // The live record (made at or after since_ms) of a key's Idempotency-Key; nullopt if none.
  virtual Result<std::optional<IdempotentSubmit>> FindIdempotentSubmit(const std::string& key_id,
                                                                      const std::string& idempotency_key,
                                                                      int64_t since_ms) = 0;
  // Deletes Idempotency-Key records made before before_ms; returns how many.
  virtual Result<int> PruneIdempotencyKeys(int64_t before_ms) = 0;
  // kNotFound when absent.
  virtual Result<core::Task> Get(const std::string& id) = 0;
  // Queued and running tasks of a key, oldest first.
  virtual Result<std::vector<core::Task>> ListActive(const std::string& key_id, int limit) = 0;
  // A key's tasks in any state, newest first.
  virtual Result<std::vector<core::Task>> ListRecent(const std::string& key_id, int limit) = 0;

  // Takes the oldest queued task, marks it running with a lease of lease_ms; nullopt if none.
  Result<std::optional<core::Task>> ClaimNext(const std::string& owner, int64_t now_ms, int64_t lease_ms) {
    return ClaimNextOf(owner, now_ms, lease_ms, {});
  }
  // The same, of the oldest queued task whose route (core::RouteOf its model and kind) is
  // among routes; empty routes: any task.
  virtual Result<std::optional<core::Task>> ClaimNextOf(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                                        const std::vector<std::string>& routes) = 0;
  // Extends the lease. Returns whether a cancel was requested; kConflict if the lease was lost.
  virtual Result<bool> RenewLease(const LeaseToken& lease, int64_t now_ms, int64_t lease_ms) = 0;
  virtual Status UpdateProgress(const LeaseToken& lease, int progress, int64_t now_ms) = 0;
  // Records which provider runs the task (the routing decision of this attempt).
  virtual Status SetProvider(const LeaseToken& lease, const std::string& provider) = 0;
  // running -> succeeded (progress 100) with outputs; kConflict if the lease was lost.
  virtual Status Complete(const LeaseToken& lease, const std::vector<core::Output>& outputs,
                          int64_t now_ms) = 0;
  // running -> failed; kConflict if the lease was lost.
  virtual Status Fail(const LeaseToken& lease, const core::TaskError& error, int64_t now_ms) = 0;
  // running -> canceled by the worker that saw the cancel request.
  virtual Status FinishCanceled(const LeaseToken& lease, int64_t now_ms) = 0;
  // running -> queued on a graceful shutdown; the attempt does not count against the task.
  virtual Status Release(const LeaseToken& lease, int64_t now_ms) = 0;

  // Lowers a running task's hold to amount once its price is known (a video edit is held for
  // the longest input until the input is probed). The difference goes back to the balances it
  // came from, permanent credits first; at most once per task. Returns the task's usage after
  // the call (unchanged when amount is not lower); kConflict if the lease was lost.
  virtual Result<core::Usage> LowerHold(const LeaseToken& lease, int64_t amount, int64_t now_ms) = 0;

  // Client cancel: a queued task becomes canceled at once; a running one gets cancel_requested
  // (the worker stops at its next step). Returns the state after the call; kConflict if terminal.
  virtual Result<core::TaskState> RequestCancel(const std::string& id, int64_t now_ms) = 0;

  // Running tasks whose lease expired go back to the queue, or fail once they used max_attempts.
  virtual Result<RecoveryReport> RecoverExpiredLeases(int64_t now_ms, int max_attempts) = 0;

  // Succeeded tasks finished before cutoff_ms whose outputs still exist; marked expired by
  // MarkOutputsExpired once their blobs are deleted.
  virtual Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(int64_t cutoff_ms,
                                                                        int limit) = 0;
  virtual Status MarkOutputsExpired(const std::string& task_id) = 0;

  virtual Result<std::map<core::TaskState, int64_t>> CountByState() = 0;

  // Calls wake (on a thread of the store's) whenever any process queues a task, until the
  // returned watch is destroyed: how a worker on one node hears of a submit on another. A
  // store that serves one process has nothing to add to the wake-ups its own submits give:
  // the default watches nothing.
  virtual std::unique_ptr<QueueWatch> WatchQueue(std::function<void()> wake) {
    (void)wake;
    return nullptr;
  }
};

struct ApiKey {
  std::string id;          // public identifier ("key_…"), safe to show
  std::string account_id = "acct_default";
  std::string name;
  std::string hash;        // SHA-256 hex of the secret
  std::string prefix;      // first characters of the secret, to recognise it in listings
  int64_t created_ms = 0;
  int64_t revoked_ms = 0;  // 0 = active
  int64_t rpm_limit = 0;   // submits per minute, 0 = unlimited
  int64_t credit_cap = 0;  // most credits this key's tasks may hold or spend, 0 = no cap
  bool admin = false;      // an operator's admin token: opens /admin/v1, not the generation API
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  virtual Status InsertKey(const ApiKey& key) = 0;
  // Looks up an active key by the hash of its secret; kNotFound otherwise.
  virtual Result<ApiKey> FindActiveKeyByHash(const std::string& hash) = 0;
  virtual Result<std::vector<ApiKey>> ListKeys() = 0;
  // kNotFound if no active key has this id.
  virtual Status RevokeKey(const std::string& id, int64_t now_ms) = 0;
};

inline constexpr const char* kDefaultAccountId = "acct_default";

struct Account {
  std::string id;
  std::string name;
  int64_t created_ms = 0;
  bool unlimited = false;               // the default account: never refused for credits
  int64_t subscription_balance = 0;     // available, spent first, until it expires
  int64_t subscription_expires_ms = 0;
  int64_t permanent_balance = 0;        // available, never expires
  int64_t max_concurrent = 0;           // queued + running tasks at once, 0 = unlimited
  std::string webhook_url;              // where tasks without their own callback URL report
  std::string webhook_secret;           // "whsec_<base64>": signs every callback (read-only)
};

struct Grant {
  int64_t subscription = 0;
  int64_t subscription_expires_ms = 0;  // replaces the expiry when subscription > 0
  int64_t permanent = 0;
  std::string reason;
};

// A balance that the ledger does not explain, or a hold settled other than once.
struct LedgerProblem {
  std::string account_id;
  std::string task_id;
  std::string what;
};

struct CreditUse {
  int64_t account_spent = 0;  // captured by the account's tasks
  int64_t key_spent = 0;      // captured by the key's tasks
  int64_t key_held = 0;       // held by the key's unfinished tasks
  int64_t key_cap = 0;        // the key's credit cap, 0 = none
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // The account and its initial credits (nothing when the grant adds none) in one transaction,
  // so a crash never leaves an account without them. kConflict when the name is taken.
  virtual Status InsertAccount(const Account& account, const Grant& initial, int64_t now_ms) = 0;
  virtual Result<Account> GetAccount(const std::string& id) = 0;
  virtual Result<std::vector<Account>> ListAccounts() = 0;
  // Default callback endpoint for the account's tasks that name none; empty turns it off.
  virtual Status SetAccountWebhookUrl(const std::string& account_id, const std::string& url) = 0;
  // A ledger entry with its reason, and the balances, in one transaction.
  virtual Status GrantCredits(const std::string& account_id, const Grant& grant, int64_t now_ms) = 0;
  // Recomputes every balance from the ledger and checks that each hold was settled at most
  // once (and exactly once for finished tasks). Empty when all is consistent.
  virtual Result<std::vector<LedgerProblem>> CheckLedger() = 0;
  // What the account and one of its keys have used, for the credit views.
  virtual Result<CreditUse> CreditUseOf(const std::string& account_id, const std::string& key_id) = 0;
};

// One backend implements every interface over one database.
class Store : public TaskStore,
              public KeyStore,
              public AccountStore,
              public CallbackStore,
              public UpstreamStore,
              public FileStore {};

}  // namespace wanserve::store
