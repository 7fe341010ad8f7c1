#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "store/sql/accounts_sql.h"
#include "store/sql/callbacks_sql.h"
#include "store/sql/files_sql.h"
#include "store/sql/ledger_sql.h"
#include "store/sql/operations.h"
#include "store/sql/tasks_sql.h"
#include "store/sql/upstream_sql.h"
#include "store/sqlite/db.h"
#include "store/sqlite/migrations.h"

namespace wanserve::store {
namespace {

using core::Task;
using core::TaskState;
using sql::Statement;
using sql::Transaction;
using sqlite::Db;

// One writer connection behind a mutex (SQLite has one writer at a time anyway) and a pool of
// readers. Every method is one transaction; the SQL lives in sqlite/*_sql.cpp and the credit
// rules in billing/credit_policy.h.
class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Db> writer) : writer_(std::move(writer)) {}

  void AddReader(std::unique_ptr<Db> reader) {
    std::lock_guard lock(readers_mu_);
    free_readers_.push_back(reader.get());
    readers_.push_back(std::move(reader));
  }

  Status Migrate() {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * v, writer_->Prepare("PRAGMA user_version"));
    ASSIGN_OR_RETURN(bool row, v->Step());
    int version = row ? static_cast<int>(v->Int(0)) : 0;
    v->Reset();
    const auto& migrations = sqlite::Migrations();
    if (version > static_cast<int>(migrations.size())) {
      return MakeError(ErrorCode::kUnavailable,
                       fmt::format("database schema version {} is newer than this binary ({})",
                                   version, migrations.size()));
    }
    if (version == static_cast<int>(migrations.size())) return Status::Ok();
    // Schema changes run with foreign keys off, as SQLite prescribes: with them on, it refuses
    // to add a REFERENCES column with a default to a table that has rows (a database of
    // version 1 with keys could not be upgraded), and a table rebuild would trip them. Each
    // migration is checked before its commit instead. The pragma is a no-op in a transaction.
    RETURN_IF_ERROR(writer_->Exec("PRAGMA foreign_keys=OFF"));
    const Status migrated = MigrateFrom(static_cast<size_t>(version));
    const Status restored = writer_->Exec("PRAGMA foreign_keys=ON");
    return migrated.ok() ? restored : migrated;
  }

  // REQUIRES: writer_mu_ held, foreign keys off.
  Status MigrateFrom(size_t version) {
    const auto& migrations = sqlite::Migrations();
    for (size_t i = version; i < migrations.size(); ++i) {
      Transaction tx(*writer_);
      RETURN_IF_ERROR(tx.Begin());
      RETURN_IF_ERROR(writer_->Exec(migrations[i]));
      ASSIGN_OR_RETURN(Statement * check, writer_->Prepare("PRAGMA foreign_key_check"));
      ASSIGN_OR_RETURN(bool violation, check->Step());
      if (violation) {
        const std::string table = check->Text(0);
        check->Reset();
        return MakeError(ErrorCode::kUnavailable,
                         fmt::format("schema migration {} leaves rows of {} without their parent", i + 1, table));
      }
      check->Reset();
      RETURN_IF_ERROR(writer_->Exec(fmt::format("PRAGMA user_version = {}", i + 1)));
      RETURN_IF_ERROR(tx.Commit());
    }
    return Status::Ok();
  }

  // --- TaskStore ---

  // Submits that arrive while another batch commits wait and go into the next transaction
  // together (group commit): a commit writes each page it dirtied once, however many rows
  // changed it, so a batch costs little more than one insert. Each insert runs in its own
  // savepoint, so one that is refused (credits, limits, a taken id) rolls back alone, and later
  // ones see the earlier ones' effects as if they had run one after another. A submit returns
  // only after the commit that holds it.
  Result<core::Usage> Insert(const Task& t, const Hold& hold) override {
    PendingInsert me{&t, &hold, std::nullopt};
    std::unique_lock lock(batch_mu_);
    batch_.push_back(&me);
    batch_cv_.wait(lock, [&] { return me.result.has_value() || !batch_leader_; });
    if (me.result) return *std::move(me.result);
    // No leader and no result: this insert is still queued; lead the next batch.
    batch_leader_ = true;
    std::vector<PendingInsert*> batch;
    batch.swap(batch_);
    lock.unlock();
    std::vector<Result<core::Usage>> results = CommitBatch(batch);
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) batch[i]->result = std::move(results[i]);
    batch_leader_ = false;
    lock.unlock();
    batch_cv_.notify_all();
    return *std::move(me.result);
  }

  Result<Task> Get(const std::string& id) override {
    return WithReader([&](Db& db) { return sql::GetTask(db, id); });
  }

  Result<std::optional<IdempotentSubmit>> FindIdempotentSubmit(const std::string& key_id,
                                                              const std::string& idempotency_key,
                                                              int64_t since_ms) override {
    return WithReader([&](Db& db) { return sql::FindIdempotentSubmit(db, key_id, idempotency_key, since_ms); });
  }

  Result<int> PruneIdempotencyKeys(int64_t before_ms) override {
    std::lock_guard lock(writer_mu_);
    return sql::PruneIdempotencyKeys(*writer_, before_ms);
  }

  Result<std::vector<Task>> ListActive(const std::string& key_id, int limit) override {
    return WithReader([&](Db& db) { return sql::ListActive(db, key_id, limit); });
  }
  Result<std::vector<Task>> ListRecent(const std::string& key_id, int limit) override {
    return WithReader([&](Db& db) { return sql::ListRecent(db, key_id, limit); });
  }

  Result<std::optional<Task>> ClaimNextOf(const std::string& owner, int64_t now_ms, int64_t lease_ms,
                                          const std::vector<std::string>& routes) override {
    std::lock_guard lock(writer_mu_);
    return sql::ClaimNext(*writer_, owner, now_ms, lease_ms, routes);
  }

  Result<bool> RenewLease(const LeaseToken& lease, int64_t now_ms, int64_t lease_ms) override {
    std::lock_guard lock(writer_mu_);
    return sql::RenewLease(*writer_, lease, now_ms, lease_ms);
  }

  Status UpdateProgress(const LeaseToken& lease, int progress, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    return sql::UpdateProgress(*writer_, lease, progress, now_ms);
  }

  Status SetProvider(const LeaseToken& lease, const std::string& provider) override {
    std::lock_guard lock(writer_mu_);
    return sql::SetProvider(*writer_, lease, provider);
  }

  Status Complete(const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::CompleteTask(*writer_, lease, outputs, now_ms); });
  }

  Status Fail(const LeaseToken& lease, const core::TaskError& error, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::FailTask(*writer_, lease, error, now_ms); });
  }

  Status FinishCanceled(const LeaseToken& lease, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::FinishCanceledTask(*writer_, lease, now_ms); });
  }

  Status Release(const LeaseToken& lease, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    return sql::Release(*writer_, lease, now_ms);
  }

  Result<core::Usage> LowerHold(const LeaseToken& lease, int64_t amount, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::LowerHold(*writer_, lease, amount, now_ms); });
  }

  Result<TaskState> RequestCancel(const std::string& id, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::RequestCancel(*writer_, id, now_ms); });
  }

  Result<RecoveryReport> RecoverExpiredLeases(int64_t now_ms, int max_attempts) override {
    return InWriteTransaction([&] { return sql::RecoverExpiredLeases(*writer_, now_ms, max_attempts); });
  }

  Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(int64_t cutoff_ms, int limit) override {
    return WithReader([&](Db& db) { return sql::ListOutputsFinishedBefore(db, cutoff_ms, limit); });
  }

  Status MarkOutputsExpired(const std::string& task_id) override {
    std::lock_guard lock(writer_mu_);
    return sql::MarkOutputsExpired(*writer_, task_id);
  }

  Result<std::map<TaskState, int64_t>> CountByState() override {
    return WithReader([&](Db& db) { return sql::CountByState(db); });
  }

  // --- KeyStore ---

  Status InsertKey(const ApiKey& k) override {
    std::lock_guard lock(writer_mu_);
    return sql::InsertKey(*writer_, k);
  }

  Result<ApiKey> FindActiveKeyByHash(const std::string& hash) override {
    return WithReader([&](Db& db) { return sql::FindActiveKeyByHash(db, hash); });
  }

  Result<std::vector<ApiKey>> ListKeys() override {
    return WithReader([&](Db& db) { return sql::ListKeys(db); });
  }

  Status RevokeKey(const std::string& id, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    return sql::RevokeKey(*writer_, id, now_ms);
  }

  // --- CallbackStore ---

  Result<std::vector<CallbackDelivery>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms, int limit) override {
    std::lock_guard lock(writer_mu_);
    return sql::ClaimDueCallbacks(*writer_, now_ms, lease_ms, limit);
  }

  Status RecordCallbackAttempt(const CallbackAttempt& attempt, bool delivered, int64_t retry_at_ms,
                               int64_t now_ms) override {
    return InWriteTransaction(
        [&] { return sql::RecordCallbackAttempt(*writer_, attempt, delivered, retry_at_ms, now_ms); });
  }

  Result<std::vector<CallbackDelivery>> ListCallbacks(const std::string& task_id) override {
    return WithReader([&](Db& db) { return sql::ListCallbacks(db, task_id); });
  }

  Result<std::vector<CallbackAttempt>> ListCallbackAttempts(const std::string& callback_id) override {
    return WithReader([&](Db& db) { return sql::ListCallbackAttempts(db, callback_id); });
  }

  Result<CallbackDelivery> ResendCallback(const std::string& task_id, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::ResendCallback(*writer_, task_id, now_ms); });
  }

  Result<std::vector<DeadLetter>> ListFailedCallbacks(const std::string& account_id, int limit) override {
    return WithReader([&](Db& db) { return sql::ListFailedCallbacks(db, account_id, limit); });
  }

  Result<CallbackDelivery> ResendFailedCallback(const std::string& callback_id, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::ResendFailedCallback(*writer_, callback_id, now_ms); });
  }

  Result<CallbackEndpoint> RecordEndpointResult(const std::string& endpoint, bool ok, const std::string& error,
                                                int64_t now_ms, int64_t disable_after_ms) override {
    return InWriteTransaction([&] { return sql::RecordEndpointResult(*writer_, endpoint, ok, error, now_ms, disable_after_ms); });
  }

  Result<std::optional<CallbackEndpoint>> GetCallbackEndpoint(const std::string& endpoint) override {
    return WithReader([&](Db& db) { return sql::GetCallbackEndpoint(db, endpoint); });
  }

  Result<std::vector<CallbackEndpoint>> ListCallbackEndpoints() override {
    return WithReader([&](Db& db) { return sql::ListCallbackEndpoints(db); });
  }

  Status EnableCallbackEndpoint(const std::string& endpoint) override {
    return InWriteTransaction([&] { return sql::EnableCallbackEndpoint(*writer_, endpoint); });
  }

  // --- FileStore ---

  Result<std::optional<UploadedFile>> InsertFile(const UploadedFile& file, int64_t now_ms, int64_t max_files,
                                                 bool overwrite) override {
    return InWriteTransaction([&] { return sql::InsertFile(*writer_, file, now_ms, max_files, overwrite); });
  }

  Result<UploadedFile> GetFile(const std::string& id, int64_t now_ms) override {
    return WithReader([&](Db& db) { return sql::GetFile(db, id, now_ms); });
  }

  Result<UploadedFile> FindFileByName(const std::string& key_id, const std::string& api, const std::string& path,
                                      const std::string& name,
                                      int64_t now_ms) override {
    return WithReader([&](Db& db) { return sql::FindFileByName(db, key_id, api, path, name, now_ms); });
  }

  Result<std::vector<UploadedFile>> ListFiles(const std::string& key_id, const std::string& api, int64_t now_ms,
                                              int offset, int limit) override {
    return WithReader([&](Db& db) { return sql::ListFiles(db, key_id, api, now_ms, offset, limit); });
  }

  Result<int64_t> CountFiles(const std::string& key_id, const std::string& api, int64_t now_ms) override {
    return WithReader([&](Db& db) { return sql::CountFiles(db, key_id, api, now_ms); });
  }

  Result<UploadedFile> DeleteFile(const std::string& id, const std::string& key_id, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::DeleteFile(*writer_, id, key_id, now_ms); });
  }

  Result<std::vector<UploadedFile>> TakeExpiredFiles(int64_t now_ms, int limit) override {
    return InWriteTransaction([&] { return sql::TakeExpiredFiles(*writer_, now_ms, limit); });
  }

  // --- UpstreamStore ---

  Status BeginUpstreamSubmit(const LeaseToken& lease, const std::string& provider, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::BeginUpstreamSubmit(*writer_, lease, provider, now_ms); });
  }

  Status AbandonUpstreamSubmit(const LeaseToken& lease) override {
    return InWriteTransaction([&] { return sql::AbandonUpstreamSubmit(*writer_, lease); });
  }

  Status RecordUpstreamSubmitted(const LeaseToken& lease, const std::string& upstream_id, int64_t first_poll_ms,
                                 int64_t now_ms) override {
    return InWriteTransaction(
        [&] { return sql::RecordUpstreamSubmitted(*writer_, lease, upstream_id, first_poll_ms, now_ms); });
  }

  Result<std::optional<UpstreamJob>> FindUpstreamJob(const std::string& task_id) override {
    return WithReader([&](Db& db) { return sql::FindUpstreamJob(db, task_id); });
  }

  Result<std::vector<UpstreamJob>> ClaimDuePolls(int64_t now_ms, int64_t lease_ms, int limit) override {
    return InWriteTransaction([&] { return sql::ClaimDuePolls(*writer_, now_ms, lease_ms, limit); });
  }

  Status RecordPoll(const UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                    int64_t next_poll_ms) override {
    std::lock_guard lock(writer_mu_);
    return sql::RecordPoll(*writer_, claimed, status, usage_json, next_poll_ms);
  }

  // --- AccountStore ---

  Status InsertAccount(const Account& a, const Grant& initial, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::InsertAccount(*writer_, a, initial, now_ms); });
  }

  Status SetAccountWebhookUrl(const std::string& account_id, const std::string& url) override {
    std::lock_guard lock(writer_mu_);
    return sql::SetAccountWebhookUrl(*writer_, account_id, url);
  }

  Result<Account> GetAccount(const std::string& id) override {
    return WithReader([&](Db& db) { return sql::GetAccount(db, id); });
  }

  Result<std::vector<Account>> ListAccounts() override {
    return WithReader([&](Db& db) { return sql::ListAccounts(db); });
  }

  Status GrantCredits(const std::string& account_id, const Grant& g, int64_t now_ms) override {
    return InWriteTransaction([&] { return sql::GrantCredits(*writer_, account_id, g, now_ms); });
  }

  Result<std::vector<LedgerProblem>> CheckLedger() override {
    return WithReader([&](Db& db) { return sql::CheckLedger(db); });
  }

  Result<CreditUse> CreditUseOf(const std::string& account_id, const std::string& key_id) override {
    return WithReader([&](Db& db) { return sql::CreditUseOf(db, account_id, key_id); });
  }

 private:
  struct PendingInsert {
    const Task* task;
    const Hold* hold;
    std::optional<Result<core::Usage>> result;
  };

  std::vector<Result<core::Usage>> CommitBatch(const std::vector<PendingInsert*>& batch) {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    std::vector<Result<core::Usage>> results;
    Status st = tx.Begin();
    for (size_t i = 0; st.ok() && i < batch.size(); ++i) {
      st = RunStatement("SAVEPOINT submit");
      if (!st.ok()) break;
      Result<core::Usage> r = sql::InsertTaskWithHold(*writer_, *batch[i]->task, *batch[i]->hold);
      if (!r.ok()) st = RunStatement("ROLLBACK TO submit");
      if (st.ok()) st = RunStatement("RELEASE submit");
      results.push_back(std::move(r));
    }
    if (st.ok()) st = tx.Commit();
    // Without a commit nothing of the batch is stored: every insert in it fails.
    if (!st.ok()) results.assign(batch.size(), st.error());
    return results;
  }

  Status RunStatement(const char* sql) {
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(sql));
    return s->Exec();
  }

  // Runs fn (returning Status or Result<T>) in a write transaction under the writer lock.
  template <typename Fn>
  auto InWriteTransaction(Fn&& fn) -> decltype(fn()) {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    auto result = fn();
    if (!result.ok()) return result;
    RETURN_IF_ERROR(tx.Commit());
    return result;
  }

  template <typename Fn>
  auto WithReader(Fn&& fn) -> decltype(fn(std::declval<Db&>())) {
    Db* db;
    {
      std::unique_lock lock(readers_mu_);
      readers_cv_.wait(lock, [&] { return !free_readers_.empty(); });
      db = free_readers_.back();
      free_readers_.pop_back();
    }
    auto result = fn(*db);
    {
      std::lock_guard lock(readers_mu_);
      free_readers_.push_back(db);
    }
    readers_cv_.notify_one();
    return result;
  }

  std::mutex writer_mu_;
  std::unique_ptr<Db> writer_;
  std::mutex batch_mu_;
  std::condition_variable batch_cv_;
  std::vector<PendingInsert*> batch_;  // submits waiting for the next commit
  bool batch_leader_ = false;          // a submit is committing a batch
  std::vector<std::unique_ptr<Db>> readers_;
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<Db*> free_readers_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  ASSIGN_OR_RETURN(auto writer, Db::Open(options.path, options.busy_timeout_ms, options.synchronous_full));
  auto store = std::make_unique<SqliteStore>(std::move(writer));
  RETURN_IF_ERROR(store->Migrate());
  // Readers are opened once the schema exists, so none caches a stale one.
  for (int i = 0; i < std::max(1, options.reader_connections); ++i) {
    ASSIGN_OR_RETURN(auto reader, Db::Open(options.path, options.busy_timeout_ms, options.synchronous_full));
    store->AddReader(std::move(reader));
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace wanserve::store
