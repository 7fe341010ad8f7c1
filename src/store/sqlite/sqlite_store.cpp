#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "billing/credit_policy.h"
#include "store/sqlite/accounts_sql.h"
#include "store/sqlite/callbacks_sql.h"
#include "store/sqlite/db.h"
#include "store/sqlite/files_sql.h"
#include "store/sqlite/ledger_sql.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/tasks_sql.h"
#include "store/sqlite/upstream_sql.h"

namespace wanserve::store {
namespace {

using core::Task;
using core::TaskState;
using sqlite::Db;
using sqlite::Statement;
using sqlite::Transaction;

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
    return WithReader([&](Db& db) { return sqlite::GetTask(db, id); });
  }

  Result<std::optional<IdempotentSubmit>> FindIdempotentSubmit(const std::string& key_id,
                                                              const std::string& idempotency_key,
                                                              int64_t since_ms) override {
    return WithReader([&](Db& db) { return sqlite::FindIdempotentSubmit(db, key_id, idempotency_key, since_ms); });
  }

  Result<int> PruneIdempotencyKeys(int64_t before_ms) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::PruneIdempotencyKeys(*writer_, before_ms);
  }

  Result<std::vector<Task>> ListActive(const std::string& key_id, int limit) override {
    return WithReader([&](Db& db) { return sqlite::ListActive(db, key_id, limit); });
  }

  Result<std::optional<Task>> ClaimNext(const std::string& owner, int64_t now_ms, int64_t lease_ms) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::ClaimNext(*writer_, owner, now_ms, lease_ms);
  }

  Result<bool> RenewLease(const LeaseToken& lease, int64_t now_ms, int64_t lease_ms) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::RenewLease(*writer_, lease, now_ms, lease_ms);
  }

  Status UpdateProgress(const LeaseToken& lease, int progress, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::UpdateProgress(*writer_, lease, progress, now_ms);
  }

  Status SetProvider(const LeaseToken& lease, const std::string& provider) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::SetProvider(*writer_, lease, provider);
  }

  Status Complete(const LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms) override {
    return InWriteTransaction([&]() -> Status {
      RETURN_IF_ERROR(sqlite::MarkSucceeded(*writer_, lease, outputs, now_ms));
      return FinishLocked(lease.task_id, TaskState::kSucceeded, now_ms);
    });
  }

  Status Fail(const LeaseToken& lease, const core::TaskError& error, int64_t now_ms) override {
    return InWriteTransaction([&]() -> Status {
      RETURN_IF_ERROR(sqlite::MarkFailed(*writer_, lease, error, now_ms));
      return FinishLocked(lease.task_id, TaskState::kFailed, now_ms);
    });
  }

  Status FinishCanceled(const LeaseToken& lease, int64_t now_ms) override {
    return InWriteTransaction([&]() -> Status {
      RETURN_IF_ERROR(sqlite::MarkCanceled(*writer_, lease, now_ms));
      return FinishLocked(lease.task_id, TaskState::kCanceled, now_ms);
    });
  }

  Status Release(const LeaseToken& lease, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::Release(*writer_, lease, now_ms);
  }

  Result<core::Usage> LowerHold(const LeaseToken& lease, int64_t amount, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(core::Usage usage, sqlite::ReadLeasedUsage(*writer_, lease));
    ASSIGN_OR_RETURN(std::optional<sqlite::TaskHold> hold, sqlite::ReadHold(*writer_, lease.task_id));
    if (!hold) return usage;
    std::optional<billing::Settlement> lowered = billing::PlanLowerHold(hold->held, amount, now_ms);
    if (!lowered) return usage;
    RETURN_IF_ERROR(sqlite::AppendEntries(*writer_, hold->account_id, lease.task_id, lowered->entries, now_ms));
    RETURN_IF_ERROR(sqlite::SetUsage(*writer_, lease.task_id, lowered->usage_after));
    RETURN_IF_ERROR(tx.Commit());
    return lowered->usage_after;
  }

  Result<TaskState> RequestCancel(const std::string& id, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(TaskState state, sqlite::ReadState(*writer_, id));
    if (core::IsTerminal(state)) {
      return MakeError(ErrorCode::kConflict, fmt::format("task is already {}", core::ToString(state)));
    }
    TaskState after;
    if (state == TaskState::kQueued) {
      RETURN_IF_ERROR(sqlite::CancelQueued(*writer_, id, now_ms));
      RETURN_IF_ERROR(FinishLocked(id, TaskState::kCanceled, now_ms));
      after = TaskState::kCanceled;
    } else {
      RETURN_IF_ERROR(sqlite::FlagCancel(*writer_, id, now_ms));
      RETURN_IF_ERROR(sqlite::PollNow(*writer_, id, now_ms));
      after = TaskState::kRunning;
    }
    RETURN_IF_ERROR(tx.Commit());
    return after;
  }

  Result<RecoveryReport> RecoverExpiredLeases(int64_t now_ms, int max_attempts) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    RecoveryReport report;
    // A canceled-while-running task whose worker died is finished as canceled, not retried.
    ASSIGN_OR_RETURN(auto canceled, sqlite::CancelExpiredCanceling(*writer_, now_ms));
    ASSIGN_OR_RETURN(auto failed, sqlite::FailExpiredExhausted(*writer_, now_ms, max_attempts));
    report.failed = static_cast<int>(failed.size());
    for (const auto& id : canceled) RETURN_IF_ERROR(FinishLocked(id, TaskState::kCanceled, now_ms));
    for (const auto& id : failed) RETURN_IF_ERROR(FinishLocked(id, TaskState::kFailed, now_ms));
    ASSIGN_OR_RETURN(report.requeued, sqlite::RequeueExpired(*writer_, now_ms));
    RETURN_IF_ERROR(tx.Commit());
    return report;
  }

  Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(int64_t cutoff_ms, int limit) override {
    return WithReader([&](Db& db) { return sqlite::ListOutputsFinishedBefore(db, cutoff_ms, limit); });
  }

  Status MarkOutputsExpired(const std::string& task_id) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::MarkOutputsExpired(*writer_, task_id);
  }

  Result<std::map<TaskState, int64_t>> CountByState() override {
    return WithReader([&](Db& db) { return sqlite::CountByState(db); });
  }

  // --- KeyStore ---

  Status InsertKey(const ApiKey& k) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::InsertKey(*writer_, k);
  }

  Result<ApiKey> FindActiveKeyByHash(const std::string& hash) override {
    return WithReader([&](Db& db) { return sqlite::FindActiveKeyByHash(db, hash); });
  }

  Result<std::vector<ApiKey>> ListKeys() override {
    return WithReader([&](Db& db) { return sqlite::ListKeys(db); });
  }

  Status RevokeKey(const std::string& id, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::RevokeKey(*writer_, id, now_ms);
  }

  // --- CallbackStore ---

  Result<std::vector<CallbackDelivery>> ClaimDueCallbacks(int64_t now_ms, int64_t lease_ms, int limit) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::ClaimDueCallbacks(*writer_, now_ms, lease_ms, limit);
  }

  Status RecordCallbackAttempt(const CallbackAttempt& attempt, bool delivered, int64_t retry_at_ms,
                               int64_t now_ms) override {
    return InWriteTransaction(
        [&] { return sqlite::RecordCallbackAttempt(*writer_, attempt, delivered, retry_at_ms, now_ms); });
  }

  Result<std::vector<CallbackDelivery>> ListCallbacks(const std::string& task_id) override {
    return WithReader([&](Db& db) { return sqlite::ListCallbacks(db, task_id); });
  }

  Result<std::vector<CallbackAttempt>> ListCallbackAttempts(const std::string& callback_id) override {
    return WithReader([&](Db& db) { return sqlite::ListCallbackAttempts(db, callback_id); });
  }

  Result<CallbackDelivery> ResendCallback(const std::string& task_id, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(CallbackDelivery d, sqlite::ResendCallback(*writer_, task_id, now_ms));
    RETURN_IF_ERROR(tx.Commit());
    return d;
  }

  // --- FileStore ---

  Result<std::optional<UploadedFile>> InsertFile(const UploadedFile& file, int64_t now_ms, int64_t max_files,
                                                 bool overwrite) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(auto replaced, sqlite::InsertFile(*writer_, file, now_ms, max_files, overwrite));
    RETURN_IF_ERROR(tx.Commit());
    return replaced;
  }

  Result<UploadedFile> GetFile(const std::string& id, int64_t now_ms) override {
    return WithReader([&](Db& db) { return sqlite::GetFile(db, id, now_ms); });
  }

  Result<UploadedFile> FindFileByName(const std::string& key_id, const std::string& api, const std::string& path,
                                      const std::string& name,
                                      int64_t now_ms) override {
    return WithReader([&](Db& db) { return sqlite::FindFileByName(db, key_id, api, path, name, now_ms); });
  }

  Result<std::vector<UploadedFile>> ListFiles(const std::string& key_id, const std::string& api, int64_t now_ms,
                                              int offset, int limit) override {
    return WithReader([&](Db& db) { return sqlite::ListFiles(db, key_id, api, now_ms, offset, limit); });
  }

  Result<int64_t> CountFiles(const std::string& key_id, const std::string& api, int64_t now_ms) override {
    return WithReader([&](Db& db) { return sqlite::CountFiles(db, key_id, api, now_ms); });
  }

  Result<UploadedFile> DeleteFile(const std::string& id, const std::string& key_id, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(auto file, sqlite::DeleteFile(*writer_, id, key_id, now_ms));
    RETURN_IF_ERROR(tx.Commit());
    return file;
  }

  Result<std::vector<UploadedFile>> TakeExpiredFiles(int64_t now_ms, int limit) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(auto files, sqlite::TakeExpiredFiles(*writer_, now_ms, limit));
    RETURN_IF_ERROR(tx.Commit());
    return files;
  }

  // --- UpstreamStore ---

  Status BeginUpstreamSubmit(const LeaseToken& lease, const std::string& provider, int64_t now_ms) override {
    return InWriteTransaction([&] { return sqlite::BeginUpstreamSubmit(*writer_, lease, provider, now_ms); });
  }

  Status AbandonUpstreamSubmit(const LeaseToken& lease) override {
    return InWriteTransaction([&] { return sqlite::AbandonUpstreamSubmit(*writer_, lease); });
  }

  Status RecordUpstreamSubmitted(const LeaseToken& lease, const std::string& upstream_id, int64_t first_poll_ms,
                                 int64_t now_ms) override {
    return InWriteTransaction(
        [&] { return sqlite::RecordUpstreamSubmitted(*writer_, lease, upstream_id, first_poll_ms, now_ms); });
  }

  Result<std::optional<UpstreamJob>> FindUpstreamJob(const std::string& task_id) override {
    return WithReader([&](Db& db) { return sqlite::FindUpstreamJob(db, task_id); });
  }

  Result<std::vector<UpstreamJob>> ClaimDuePolls(int64_t now_ms, int64_t lease_ms, int limit) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(auto jobs, sqlite::ClaimDuePolls(*writer_, now_ms, lease_ms, limit));
    RETURN_IF_ERROR(tx.Commit());
    return jobs;
  }

  Status RecordPoll(const UpstreamJob& claimed, const std::string& status, const std::string& usage_json,
                    int64_t next_poll_ms) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::RecordPoll(*writer_, claimed, status, usage_json, next_poll_ms);
  }

  // --- AccountStore ---

  Status InsertAccount(const Account& a, const Grant& initial, int64_t now_ms) override {
    return InWriteTransaction([&]() -> Status {
      RETURN_IF_ERROR(sqlite::InsertAccountRow(*writer_, a, now_ms));
      if (initial.subscription == 0 && initial.permanent == 0) return Status::Ok();
      return ApplyGrant(a.id, initial, now_ms);
    });
  }

  Status SetAccountWebhookUrl(const std::string& account_id, const std::string& url) override {
    std::lock_guard lock(writer_mu_);
    return sqlite::SetAccountWebhookUrl(*writer_, account_id, url);
  }

  Result<Account> GetAccount(const std::string& id) override {
    return WithReader([&](Db& db) { return sqlite::GetAccount(db, id); });
  }

  Result<std::vector<Account>> ListAccounts() override {
    return WithReader([&](Db& db) { return sqlite::ListAccounts(db); });
  }

  Status GrantCredits(const std::string& account_id, const Grant& g, int64_t now_ms) override {
    return InWriteTransaction([&] { return ApplyGrant(account_id, g, now_ms); });
  }

  Result<std::vector<LedgerProblem>> CheckLedger() override {
    return WithReader([&](Db& db) { return sqlite::CheckLedger(db); });
  }

  Result<CreditUse> CreditUseOf(const std::string& account_id, const std::string& key_id) override {
    return WithReader([&](Db& db) { return sqlite::CreditUseOf(db, account_id, key_id); });
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
      Result<core::Usage> r = InsertLocked(*batch[i]->task, *batch[i]->hold);
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

  // The credit rules judge the submit on what this transaction reads; the plan's bucket,
  // ledger rows and the task are written together.
  // REQUIRES: writer_mu_ held, inside a transaction.
  Result<core::Usage> InsertLocked(const Task& t, const Hold& hold) {
    const std::string& account_id = hold.account_id.empty() ? t.account_id : hold.account_id;
    ASSIGN_OR_RETURN(billing::SubmitInputs inputs,
                     sqlite::ReadSubmitInputs(*writer_, account_id, hold.key_id, hold.amount, t.created_ms));
    ASSIGN_OR_RETURN(billing::SubmitPlan plan, billing::PlanSubmit(inputs));
    if (plan.bucket) RETURN_IF_ERROR(sqlite::WriteRateBucket(*writer_, hold.key_id, *plan.bucket));
    RETURN_IF_ERROR(sqlite::AppendEntries(*writer_, account_id, t.id, plan.entries, t.created_ms));
    RETURN_IF_ERROR(sqlite::InsertTask(*writer_, t, account_id, plan.usage));
    if (!hold.idempotency.idempotency_key.empty()) {
      RETURN_IF_ERROR(sqlite::ClaimIdempotencyKey(*writer_, t.key_id, hold.idempotency, t.id, t.created_ms));
    }
    return plan.usage;
  }

  // REQUIRES: writer_mu_ held, inside a transaction.
  Status ApplyGrant(const std::string& account_id, const Grant& g, int64_t now_ms) {
    ASSIGN_OR_RETURN(std::optional<billing::AccountState> account, sqlite::ReadAccountState(*writer_, account_id));
    if (!account) return MakeError(ErrorCode::kNotFound, "no account " + account_id);
    ASSIGN_OR_RETURN(auto entries, billing::PlanGrant(*account, g.subscription, g.permanent, g.reason, now_ms));
    RETURN_IF_ERROR(sqlite::AppendEntries(*writer_, account_id, "", entries, now_ms));
    if (g.subscription > 0) RETURN_IF_ERROR(sqlite::SetSubscriptionExpiry(*writer_, account_id, g.subscription_expires_ms));
    return Status::Ok();
  }

  // Everything that happens with a task's terminal transition, in its transaction: the hold
  // is settled (the unique index on settlements makes a second one fail, and with it the
  // whole transition), the upstream job closed, and the callback (if any) put in the outbox.
  // REQUIRES: writer_mu_ held, inside a transaction.
  Status FinishLocked(const std::string& task_id, TaskState final_state, int64_t now_ms) {
    ASSIGN_OR_RETURN(std::optional<sqlite::TaskHold> hold, sqlite::ReadHold(*writer_, task_id));
    if (hold) {
      const billing::Settlement settled =
          billing::PlanSettlement(hold->held, final_state == TaskState::kSucceeded, now_ms);
      RETURN_IF_ERROR(sqlite::AppendEntries(*writer_, hold->account_id, task_id, settled.entries, now_ms));
      // A capture keeps the usage as held; only a release changes the row again.
      if (settled.usage_after.total != hold->held.total()) {
        RETURN_IF_ERROR(sqlite::SetUsage(*writer_, task_id, settled.usage_after));
      }
    }
    RETURN_IF_ERROR(sqlite::CloseUpstreamJob(*writer_, task_id));
    return sqlite::EnqueueCallback(*writer_, task_id, final_state, now_ms);
  }

  // Runs fn (returning Status) in a write transaction under the writer lock.
  template <typename Fn>
  Status InWriteTransaction(Fn&& fn) {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    RETURN_IF_ERROR(fn());
    return tx.Commit();
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
  ASSIGN_OR_RETURN(auto writer, Db::Open(options.path, options.busy_timeout_ms));
  auto store = std::make_unique<SqliteStore>(std::move(writer));
  RETURN_IF_ERROR(store->Migrate());
  // Readers are opened once the schema exists, so none caches a stale one.
  for (int i = 0; i < std::max(1, options.reader_connections); ++i) {
    ASSIGN_OR_RETURN(auto reader, Db::Open(options.path, options.busy_timeout_ms));
    store->AddReader(std::move(reader));
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace wanserve::store
