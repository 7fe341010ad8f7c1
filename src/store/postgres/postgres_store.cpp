#include "store/postgres/postgres_store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "store/postgres/pg_connection.h"
#include "store/postgres/queue_listener.h"
#include "store/postgres/schema.h"
#include "store/sql/accounts_sql.h"
#include "store/sql/callbacks_sql.h"
#include "store/sql/files_sql.h"
#include "store/sql/ledger_sql.h"
#include "store/sql/operations.h"
#include "store/sql/tasks_sql.h"
#include "store/sql/upstream_sql.h"

namespace wanserve::store {
namespace {

using core::Task;
using core::TaskState;
using postgres::PgConnection;
using sql::Connection;

int64_t SystemMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Connections opened on demand up to a bound; one that broke or was left inside a transaction
// is closed instead of going back, so the next user gets a fresh one after a database restart.
class ConnectionPool {
 public:
  ConnectionPool(std::string url, int max) : url_(std::move(url)), max_(std::max(1, max)) {}

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (conn_) pool_->Return(std::move(conn_));
    }
    PgConnection& operator*() { return *conn_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  Result<Lease> Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < max_; });
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;
    lock.unlock();
    auto conn = PgConnection::Open(url_);
    if (!conn.ok()) {
      lock.lock();
      --open_;
      cv_.notify_one();
      return conn.error();
    }
    return Lease(this, std::move(conn).value());
  }

 private:
  // A lost connection means the server restarted or failed over: the idle ones are lost too,
  // so they go with it rather than fail their next users one by one.
  void Return(std::unique_ptr<PgConnection> conn) {
    const bool keep = conn->Reusable();
    std::vector<std::unique_ptr<PgConnection>> lost;
    {
      std::lock_guard lock(mu_);
      if (keep) {
        idle_.push_back(std::move(conn));
      } else {
        lost.swap(idle_);
        open_ -= static_cast<int>(lost.size()) + 1;
      }
    }
    cv_.notify_all();
  }

  std::string url_;
  int max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  int open_ = 0;
};

// Each method is one transaction on a pooled connection (a single statement runs on its
// own). The SQL lives in store/sql/, shared with SQLite; the locking it needs on PostgreSQL is
// in that SQL too (the account row read for update, SKIP LOCKED picks).
class PostgresStore final : public Store {
 public:
  explicit PostgresStore(const PostgresOptions& options)
      : url_(options.url), pool_(options.url, options.max_connections) {}

  Status Open() {
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    RETURN_IF_ERROR(postgres::Migrate(*conn));
    return MeasureClock(*conn);
  }

  // --- TaskStore ---

  Result<core::Usage> Insert(const Task& t, const Hold& hold) override {
    return InTransaction([&](Connection& db) -> Result<core::Usage> {
      ASSIGN_OR_RETURN(core::Usage usage, sql::InsertTaskWithHold(db, t, hold));
      RETURN_IF_ERROR(NotifyQueued(db));
      return usage;
    });
  }
  Result<std::optional<IdempotentSubmit>> FindIdempotentSubmit(const std::string& key_id,
                                                              const std::string& idempotency_key,
                                                              int64_t since_ms) override {
    return Run([&](Connection& db) { return sql::FindIdempotentSubmit(db, key_id, idempotency_key, since_ms); });
  }
  Result<int> PruneIdempotencyKeys(int64_t before_ms) override {
    return Run([&](Connection& db) { return sql::PruneIdempotencyKeys(db, before_ms); });
  }
  Result<Task> Get(const std::string& id) override {
    return Run([&](Connection& db) { return sql::GetTask(db, id); });
  }
  Result<std::vector<Task>> ListActive(const std::string& key_id, int limit) override {
    return Run([&](Connection& db) { return sql::ListActive(db, key_id, limit); });
  }
  Result<std::vector<Task>> ListRecent(const std::string& key_id, int limit) override {
    return Run([&](Connection& db) { return sql::ListRecent(db, key_id, limit); });
  }
  Result<std::optional<Task>> ClaimNextOf(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                          const std::vector<std::string>& routes) override {
    return Run([&](Connection& db) { return sql::ClaimNext(db, owner, LeaseClock(db, now_ms), lease_ms, routes); });
  }
  Result<bool> RenewLease(const LeaseToken& lease, int64_t now_ms, int64_t lease_ms) override {
    return Run([&](Connection& db) { return sql::RenewLease(db, lease, LeaseClock(db, now_ms), lease_ms); });
  }
  Status UpdateProgress(const LeaseToken& lease, int progress, int64_t now_ms) override {
    return Run([&](Connection& db) { return sql::UpdateProgress(db, lease, progress, now_ms); });
  }
  Status SetProvider(const LeaseToken& lease, const std::string& provider) override {
    return Run([&](Connection& db) { return sql::SetProvider(db, lease, provider); });
  }
  Status Complete(const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::CompleteTask(db, lease, outputs, now_ms); });
  }
  Status Fail(const LeaseToken& lease, const core::TaskError& error, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::FailTask(db, lease, error, now_ms); });
  }
  Status FinishCanceled(const LeaseToken& lease, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::FinishCanceledTask(db, lease, now_ms); });
  }
  Status Release(const LeaseToken& lease, int64_t now_ms) override {
    return InTransaction([&](Connection& db) -> Status {
      RETURN_IF_ERROR(sql::Release(db, lease, now_ms));
      return NotifyQueued(db);
    });
  }
  Result<core::Usage> LowerHold(const LeaseToken& lease, int64_t amount, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::LowerHold(db, lease, amount, now_ms); });
  }
  Result<TaskState> RequestCancel(const std::string& id, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::RequestCancel(db, id, now_ms); });
  }
  Result<RecoveryReport> RecoverExpiredLeases(int64_t now_ms, int max_attempts) override {
    return InTransaction([&](Connection& db) -> Result<RecoveryReport> {
      ASSIGN_OR_RETURN(RecoveryReport report, sql::RecoverExpiredLeases(db, LeaseClock(db, now_ms), max_attempts));
      if (report.requeued > 0) RETURN_IF_ERROR(NotifyQueued(db));
      return report;
    });
  }
  Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(int64_t cutoff_ms, int limit) override {
    return Run([&](Connection& db) { return sql::ListOutputsFinishedBefore(db, cutoff_ms, limit); });
  }
  Status MarkOutputsExpired(const std::string& task_id) override {
    return Run([&](Connection& db) { return sql::MarkOutputsExpired(db, task_id); });
  }
  Result<std::map<TaskState, int64_t>> CountByState() override {
    return Run([&](Connection& db) { return sql::CountByState(db); });
  }
  std::unique_ptr<QueueWatch> WatchQueue(std::function<void()> wake) override {
    return std::make_unique<postgres::QueueListener>(url_, std::move(wake));
  }

  // --- KeyStore ---

  Status InsertKey(const ApiKey& k) override {
    return Run([&](Connection& db) { return sql::InsertKey(db, k); });
  }
  Result<ApiKey> FindActiveKeyByHash(const std::string& hash) override {
    return Run([&](Connection& db) { return sql::FindActiveKeyByHash(db, hash); });
  }
  Result<std::vector<ApiKey>> ListKeys() override {
    return Run([&](Connection& db) { return sql::ListKeys(db); });
  }
  Status RevokeKey(const std::string& id, int64_t now_ms) override {
    return Run([&](Connection& db) { return sql::RevokeKey(db, id, now_ms); });
  }

  // --- AccountStore ---

  Status InsertAccount(const Account& a, const Grant& initial, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::InsertAccount(db, a, initial, now_ms); });
  }
  Result<Account> GetAccount(const std::string& id) override {
    return Run([&](Connection& db) { return sql::GetAccount(db, id); });
  }
  Result<std::vector<Account>> ListAccounts() override {
    return Run([&](Connection& db) { return sql::ListAccounts(db); });
  }
  Status SetAccountWebhookUrl(const std::string& account_id, const std::string& url) override {
    return Run([&](Connection& db) { return sql::SetAccountWebhookUrl(db, account_id, url); });
  }
  Status GrantCredits(const std::string& account_id, const Grant& g, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::GrantCredits(db, account_id, g, now_ms); });
  }
  // One snapshot, so that balances and ledger rows committed meanwhile are seen together.
  Result<std::vector<LedgerProblem>> CheckLedger() override {
    return InTransaction([&](Connection& db) { return sql::CheckLedger(db); }, "BEGIN ISOLATION LEVEL REPEATABLE READ");
  }
  Result<CreditUse> CreditUseOf(const std::string& account_id, const std::string& key_id) override {
    return Run([&](Connection& db) { return sql::CreditUseOf(db, account_id, key_id); });
  }

  // --- CallbackStore ---

  Result<std::vector<CallbackDelivery>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms, int limit) override {
    return Run([&](Connection& db) { return sql::ClaimDueCallbacks(db, now_ms, lease_ms, limit); });
  }
  Status RecordCallbackAttempt(const CallbackAttempt& attempt, bool delivered, int64_t retry_at_ms,
                               int64_t now_ms) override {
    return InTransaction(
        [&](Connection& db) { return sql::RecordCallbackAttempt(db, attempt, delivered, retry_at_ms, now_ms); });
  }
  Result<std::vector<CallbackDelivery>> ListCallbacks(const std::string& task_id) override {
    return Run([&](Connection& db) { return sql::ListCallbacks(db, task_id); });
  }
  Result<std::vector<CallbackAttempt>> ListCallbackAttempts(const std::string& callback_id) override {
    return Run([&](Connection& db) { return sql::ListCallbackAttempts(db, callback_id); });
  }
  Result<CallbackDelivery> ResendCallback(const std::string& task_id, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::ResendCallback(db, task_id, now_ms); });
  }

  Result<std::vector<DeadLetter>> ListFailedCallbacks(const std::string& account_id, int limit) override {
    return Run([&](Connection& db) { return sql::ListFailedCallbacks(db, account_id, limit); });
  }

  Result<CallbackDelivery> ResendFailedCallback(const std::string& callback_id, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::ResendFailedCallback(db, callback_id, now_ms); });
  }

  Result<CallbackEndpoint> RecordEndpointResult(const std::string& endpoint, bool ok, const std::string& error,
                                                int64_t now_ms, int64_t disable_after_ms) override {
    return InTransaction([&](Connection& db) { return sql::RecordEndpointResult(db, endpoint, ok, error, now_ms, disable_after_ms); });
  }

  Result<std::optional<CallbackEndpoint>> GetCallbackEndpoint(const std::string& endpoint) override {
    return Run([&](Connection& db) { return sql::GetCallbackEndpoint(db, endpoint); });
  }

  Result<std::vector<CallbackEndpoint>> ListCallbackEndpoints() override {
    return Run([&](Connection& db) { return sql::ListCallbackEndpoints(db); });
  }

  Status EnableCallbackEndpoint(const std::string& endpoint) override {
    return InTransaction([&](Connection& db) { return sql::EnableCallbackEndpoint(db, endpoint); });
  }

  // --- UpstreamStore ---

  Status BeginUpstreamSubmit(const LeaseToken& lease, const std::string& provider, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::BeginUpstreamSubmit(db, lease, provider, now_ms); });
  }
  Status AbandonUpstreamSubmit(const LeaseToken& lease) override {
    return InTransaction([&](Connection& db) { return sql::AbandonUpstreamSubmit(db, lease); });
  }
  Status RecordUpstreamSubmitted(const LeaseToken& lease, const std::string& upstream_id, int64_t first_poll_ms,
                                 int64_t now_ms) override {
    return InTransaction(
        [&](Connection& db) { return sql::RecordUpstreamSubmitted(db, lease, upstream_id, first_poll_ms, now_ms); });
  }
  Result<std::optional<UpstreamJob>> FindUpstreamJob(const std::string& task_id) override {
    return Run([&](Connection& db) { return sql::FindUpstreamJob(db, task_id); });
  }
  Result<std::vector<UpstreamJob>> ClaimDuePolls(int64_t now_ms, int64_t lease_ms, int limit) override {
    return InTransaction([&](Connection& db) { return sql::ClaimDuePolls(db, now_ms, lease_ms, limit); });
  }
  Status RecordPoll(const UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                    int64_t next_poll_ms) override {
    return Run([&](Connection& db) { return sql::RecordPoll(db, claimed, status, usage_json, next_poll_ms); });
  }

  // --- FileStore ---

  Result<std::optional<UploadedFile>> InsertFile(const UploadedFile& file, int64_t now_ms, int64_t max_files,
                                                 bool overwrite) override {
    return InTransaction([&](Connection& db) { return sql::InsertFile(db, file, now_ms, max_files, overwrite); });
  }
  Result<UploadedFile> GetFile(const std::string& id, int64_t now_ms) override {
    return Run([&](Connection& db) { return sql::GetFile(db, id, now_ms); });
  }
  Result<UploadedFile> FindFileByName(const std::string& key_id, const std::string& api, const std::string& path,
                                      const std::string& name, int64_t now_ms) override {
    return Run([&](Connection& db) { return sql::FindFileByName(db, key_id, api, path, name, now_ms); });
  }
  Result<std::vector<UploadedFile>> ListFiles(const std::string& key_id, const std::string& api, int64_t now_ms,
                                              int offset, int limit) override {
    return Run([&](Connection& db) { return sql::ListFiles(db, key_id, api, now_ms, offset, limit); });
  }
  Result<int64_t> CountFiles(const std::string& key_id, const std::string& api, int64_t now_ms) override {
    return Run([&](Connection& db) { return sql::CountFiles(db, key_id, api, now_ms); });
  }
  Result<UploadedFile> DeleteFile(const std::string& id, const std::string& key_id, int64_t now_ms) override {
    return InTransaction([&](Connection& db) { return sql::DeleteFile(db, id, key_id, now_ms); });
  }
  Result<std::vector<UploadedFile>> TakeExpiredFiles(int64_t now_ms, int limit) override {
    return InTransaction([&](Connection& db) { return sql::TakeExpiredFiles(db, now_ms, limit); });
  }

 private:
  // A node's time moved onto the database's clock: every node judges leases by one clock, so
  // a node whose clock runs ahead cannot expire the leases of others early. The offset is
  // measured at open and again every minute (NTP may step the node's clock).
  int64_t LeaseClock(Connection& db, int64_t now_ms) {
    if (SystemMs() - measured_at_ms_.load() > 60'000) (void)MeasureClock(db);
    return now_ms + clock_offset_ms_.load();
  }

  Status MeasureClock(Connection& db) {
    ASSIGN_OR_RETURN(sql::Statement * s,
                     db.Prepare("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint"));
    const int64_t before = SystemMs();
    ASSIGN_OR_RETURN(int64_t db_ms, s->One<int64_t>([](const sql::Statement& r) { return r.Int(0); }, "no clock"));
    const int64_t after = SystemMs();
    // To the second: finer than that is measurement noise (and leases last tens of seconds).
    clock_offset_ms_ = (db_ms - (before + after) / 2) / 1000 * 1000;
    measured_at_ms_ = after;
    return Status::Ok();
  }

  // Delivered at commit to every node listening (postgres/queue_listener.h).
  static Status NotifyQueued(Connection& db) {
    return db.Exec(std::string("NOTIFY ") + postgres::kQueueChannel);
  }

  template <typename Fn>
  auto Run(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    return fn(*conn);
  }

  // The transaction ends (rolled back unless committed) before the connection goes back.
  template <typename Fn>
  auto InTransaction(Fn&& fn, const char* begin = nullptr) -> decltype(fn(std::declval<Connection&>())) {
    ASSIGN_OR_RETURN(auto conn, pool_.Acquire());
    sql::Transaction tx(*conn);
    RETURN_IF_ERROR(tx.Begin(begin));
    auto result = fn(*conn);
    if (!result.ok()) return result;
    RETURN_IF_ERROR(tx.Commit());
    return result;
  }

  std::string url_;
  ConnectionPool pool_;
  std::atomic<int64_t> clock_offset_ms_{0};
  std::atomic<int64_t> measured_at_ms_{0};
};

}  // namespace

bool IsPostgresUrl(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  auto store = std::make_unique<PostgresStore>(options);
  RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace wanserve::store
