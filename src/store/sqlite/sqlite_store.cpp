#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "common/crypto.h"
#include "store/sqlite/callbacks_sql.h"
#include "store/sqlite/db.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/files_sql.h"
#include "store/sqlite/upstream_sql.h"
#include "store/task_store.h"

namespace wanserve::store {
namespace {

using core::Task;
using core::TaskState;
using sqlite::Db;
using sqlite::Statement;
using sqlite::Transaction;

constexpr const char* kTaskColumns =
    "id, dialect, key_id, model_alias, client_echo, request_json, state, progress, attempts, "
    "cancel_requested, lease_owner, lease_expires_ms, created_ms, started_ms, finished_ms, "
    "updated_ms, error_class, error_code, error_message, outputs_json, outputs_expired, provider, "
    "usage_total, usage_subscription, usage_permanent, account_id";

Result<Task> ReadTask(const Statement& s) {
  Task t;
  t.id = s.Text(0);
  t.dialect = s.Text(1);
  t.key_id = s.Text(2);
  t.model_alias = s.Text(3);
  t.client_echo = s.Text(4);
  ASSIGN_OR_RETURN(t.request, core::DecodeRequest(s.Text(5)));
  auto state = core::ParseTaskState(s.Text(6));
  if (!state) return MakeError(ErrorCode::kInternal, "stored task has an unknown state");
  t.state = *state;
  t.progress = static_cast<int>(s.Int(7));
  t.attempts = static_cast<int>(s.Int(8));
  t.cancel_requested = s.Int(9) != 0;
  t.lease_owner = s.Text(10);
  t.lease_expires_ms = s.Int(11);
  t.created_ms = s.Int(12);
  t.started_ms = s.Int(13);
  t.finished_ms = s.Int(14);
  t.updated_ms = s.Int(15);
  if (!s.Text(16).empty()) {
    t.error = core::TaskError{ParseErrorCode(s.Text(16)), s.Text(17), s.Text(18)};
  }
  ASSIGN_OR_RETURN(t.outputs, core::DecodeOutputs(s.Text(19)));
  t.outputs_expired = s.Int(20) != 0;
  t.provider = s.Text(21);
  t.usage = {s.Int(22), s.Int(23), s.Int(24)};
  t.account_id = s.Text(25);
  return t;
}

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
    return WithReader([&](Db& db) -> Result<Task> {
      ASSIGN_OR_RETURN(Statement * s,
                       db.Prepare(fmt::format("SELECT {} FROM tasks WHERE id = ?1", kTaskColumns)));
      s->Bind(1, id);
      return s->One<Task>(ReadTask, "task not found");
    });
  }

  Result<std::vector<Task>> ListActive(const std::string& key_id, int limit) override {
    return WithReader([&](Db& db) -> Result<std::vector<Task>> {
      ASSIGN_OR_RETURN(Statement * s, db.Prepare(fmt::format(
          "SELECT {} FROM tasks WHERE key_id = ?1 AND state IN ('queued','running') "
          "ORDER BY created_ms, rowid LIMIT ?2", kTaskColumns)));
      s->Bind(1, key_id).Bind(2, limit);
      return s->Collect<Task>(ReadTask);
    });
  }

  Result<std::optional<Task>> ClaimNext(const std::string& owner, int64_t now_ms,
                                        int64_t lease_ms) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(fmt::format(
        "UPDATE tasks SET state = 'running', attempts = attempts + 1, lease_owner = ?1, "
        "lease_expires_ms = ?2, started_ms = CASE WHEN started_ms = 0 THEN ?3 ELSE started_ms END, "
        "updated_ms = ?3 "
        "WHERE id = (SELECT id FROM tasks WHERE state = 'queued' ORDER BY created_ms, rowid LIMIT 1) "
        "AND state = 'queued' RETURNING {}", kTaskColumns)));
    s->Bind(1, owner).Bind(2, now_ms + lease_ms).Bind(3, now_ms);
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<Task>();
    auto t = ReadTask(*s);
    // Finish the statement so the write is applied before the lock is released.
    auto rest = s->Run();
    if (!rest.ok()) return rest.error();
    if (!t.ok()) return t.error();
    return std::optional<Task>(std::move(t).value());
  }

  Result<bool> RenewLease(const LeaseToken& lease, int64_t now_ms, int64_t lease_ms) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "UPDATE tasks SET lease_expires_ms = ?1 WHERE id = ?2 AND state = 'running' "
        "AND lease_owner = ?3 AND attempts = ?4 RETURNING cancel_requested"));
    s->Bind(1, now_ms + lease_ms).Bind(2, lease.task_id).Bind(3, lease.owner).Bind(4, lease.attempt);
    ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return MakeError(ErrorCode::kConflict, "lease lost");
    bool cancel = s->Int(0) != 0;
    auto rest = s->Run();
    if (!rest.ok()) return rest.error();
    return cancel;
  }

  Status UpdateProgress(const LeaseToken& lease, int progress, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "UPDATE tasks SET progress = ?1, updated_ms = ?2 WHERE id = ?3 AND state = 'running' "
        "AND lease_owner = ?4 AND attempts = ?5"));
    s->Bind(1, progress).Bind(2, now_ms).Bind(3, lease.task_id).Bind(4, lease.owner)
        .Bind(5, lease.attempt);
    return ExpectOneRow(s->Run());
  }

  Status SetProvider(const LeaseToken& lease, const std::string& provider) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "UPDATE tasks SET provider = ?1 WHERE id = ?2 AND state = 'running' AND lease_owner = ?3 AND attempts = ?4"));
    s->Bind(1, provider).Bind(2, lease.task_id).Bind(3, lease.owner).Bind(4, lease.attempt);
    return ExpectOneRow(s->Run());
  }

  Status Complete(const LeaseToken& lease, const std::vector<core::Output>& outputs,
                  int64_t now_ms) override {
    return InWriteTransaction([&]() -> Status {
      ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
          "UPDATE tasks SET state = 'succeeded', progress = 100, outputs_json = ?1, "
          "finished_ms = ?2, updated_ms = ?2, lease_owner = '', lease_expires_ms = 0 "
          "WHERE id = ?3 AND state = 'running' AND lease_owner = ?4 AND attempts = ?5"));
      s->Bind(1, core::EncodeOutputs(outputs)).Bind(2, now_ms).Bind(3, lease.task_id)
          .Bind(4, lease.owner).Bind(5, lease.attempt);
      RETURN_IF_ERROR(ExpectOneRow(s->Run()));
      return FinishLocked(lease.task_id, TaskState::kSucceeded, now_ms);
    });
  }

  Status Fail(const LeaseToken& lease, const core::TaskError& error, int64_t now_ms) override {
    return InWriteTransaction([&]() -> Status {
      ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
          "UPDATE tasks SET state = 'failed', error_class = ?1, error_code = ?2, "
          "error_message = ?3, finished_ms = ?4, updated_ms = ?4, lease_owner = '', "
          "lease_expires_ms = 0 "
          "WHERE id = ?5 AND state = 'running' AND lease_owner = ?6 AND attempts = ?7"));
      s->Bind(1, ToString(error.code)).Bind(2, error.detail_code).Bind(3, error.message)
          .Bind(4, now_ms).Bind(5, lease.task_id).Bind(6, lease.owner).Bind(7, lease.attempt);
      RETURN_IF_ERROR(ExpectOneRow(s->Run()));
      return FinishLocked(lease.task_id, TaskState::kFailed, now_ms);
    });
  }

  Status FinishCanceled(const LeaseToken& lease, int64_t now_ms) override {
    return InWriteTransaction([&]() -> Status {
      ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
          "UPDATE tasks SET state = 'canceled', error_class = 'canceled', error_code = 'canceled', "
          "error_message = 'canceled by request', finished_ms = ?1, updated_ms = ?1, "
          "lease_owner = '', lease_expires_ms = 0 "
          "WHERE id = ?2 AND state = 'running' AND lease_owner = ?3 AND attempts = ?4"));
      s->Bind(1, now_ms).Bind(2, lease.task_id).Bind(3, lease.owner).Bind(4, lease.attempt);
      RETURN_IF_ERROR(ExpectOneRow(s->Run()));
      return FinishLocked(lease.task_id, TaskState::kCanceled, now_ms);
    });
  }

  Status Release(const LeaseToken& lease, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "UPDATE tasks SET state = 'queued', progress = 0, attempts = attempts - 1, "
        "lease_owner = '', lease_expires_ms = 0, updated_ms = ?1 "
        "WHERE id = ?2 AND state = 'running' AND lease_owner = ?3 AND attempts = ?4"));
    s->Bind(1, now_ms).Bind(2, lease.task_id).Bind(3, lease.owner).Bind(4, lease.attempt);
    return ExpectOneRow(s->Run());
  }

  Result<core::Usage> LowerHold(const LeaseToken& lease, int64_t amount, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Statement * t, writer_->Prepare(
        "SELECT usage_total, usage_subscription, usage_permanent FROM tasks "
        "WHERE id = ?1 AND state = 'running' AND lease_owner = ?2 AND attempts = ?3"));
    t->Bind(1, lease.task_id).Bind(2, lease.owner).Bind(3, lease.attempt);
    ASSIGN_OR_RETURN(bool row, t->Step());
    if (!row) return MakeError(ErrorCode::kConflict, "lease lost");
    core::Usage usage{t->Int(0), t->Int(1), t->Int(2)};
    t->Reset();
    ASSIGN_OR_RETURN(std::optional<HeldCredits> held, HeldLocked(lease.task_id));
    if (!held || amount >= held->sub + held->perm) return usage;
    // The credits taken last (permanent ones, as subscription credits are spent first) go
    // back first, so the hold ends up as if the lower price had been held from the start.
    const int64_t excess = held->sub + held->perm - std::max<int64_t>(0, amount);
    const int64_t off_perm = std::min(held->perm, excess);
    const int64_t off_sub = excess - off_perm;
    const int64_t back_perm = std::min(held->drawn_perm, off_perm);
    const int64_t back_sub = held->sub_expires_ms > now_ms ? std::min(held->drawn_sub, off_sub) : 0;
    RETURN_IF_ERROR(AppendLedger(held->account_id, lease.task_id, "adjust", off_sub, off_perm, back_sub, back_perm,
                                 "price settled once the input was known", now_ms));
    RETURN_IF_ERROR(AddToBalances(held->account_id, back_sub, back_perm));
    usage = {held->sub + held->perm - excess, held->sub - off_sub, held->perm - off_perm};
    RETURN_IF_ERROR(SetUsageLocked(lease.task_id, usage));
    RETURN_IF_ERROR(tx.Commit());
    return usage;
  }

  Result<TaskState> RequestCancel(const std::string& id, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Statement * get, writer_->Prepare("SELECT state FROM tasks WHERE id = ?1"));
    get->Bind(1, id);
    ASSIGN_OR_RETURN(bool row, get->Step());
    if (!row) return MakeError(ErrorCode::kNotFound, "task not found");
    auto state = core::ParseTaskState(get->Text(0));
    get->Reset();
    if (!state) return MakeError(ErrorCode::kInternal, "stored task has an unknown state");
    if (core::IsTerminal(*state)) {
      return MakeError(ErrorCode::kConflict,
                       fmt::format("task is already {}", core::ToString(*state)));
    }
    TaskState after;
    if (*state == TaskState::kQueued) {
      ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
          "UPDATE tasks SET state = 'canceled', cancel_requested = 1, error_class = 'canceled', "
          "error_code = 'canceled', error_message = 'canceled by request', finished_ms = ?1, "
          "updated_ms = ?1 WHERE id = ?2 AND state = 'queued'"));
      s->Bind(1, now_ms).Bind(2, id);
      RETURN_IF_ERROR(ExpectOneRow(s->Run()));
      RETURN_IF_ERROR(FinishLocked(id, TaskState::kCanceled, now_ms));
      after = TaskState::kCanceled;
    } else {
      ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
          "UPDATE tasks SET cancel_requested = 1, updated_ms = ?1 "
          "WHERE id = ?2 AND state = 'running'"));
      s->Bind(1, now_ms).Bind(2, id);
      RETURN_IF_ERROR(ExpectOneRow(s->Run()));
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
    ASSIGN_OR_RETURN(Statement * c, writer_->Prepare(
        "UPDATE tasks SET state = 'canceled', error_class = 'canceled', error_code = 'canceled', "
        "error_message = 'canceled by request', finished_ms = ?1, updated_ms = ?1, "
        "lease_owner = '', lease_expires_ms = 0 "
        "WHERE state = 'running' AND lease_expires_ms < ?1 AND cancel_requested = 1 RETURNING id"));
    c->Bind(1, now_ms);
    ASSIGN_OR_RETURN(auto canceled, c->Collect<std::string>(ReadId));
    ASSIGN_OR_RETURN(Statement * f, writer_->Prepare(
        "UPDATE tasks SET state = 'failed', error_class = 'internal', error_code = 'lease_expired', "
        "error_message = ?2, finished_ms = ?1, updated_ms = ?1, lease_owner = '', "
        "lease_expires_ms = 0 "
        "WHERE state = 'running' AND lease_expires_ms < ?1 AND attempts >= ?3 RETURNING id"));
    f->Bind(1, now_ms)
        .Bind(2, fmt::format("the worker running this task stopped {} times; giving up",
                             max_attempts))
        .Bind(3, max_attempts);
    ASSIGN_OR_RETURN(auto failed, f->Collect<std::string>(ReadId));
    report.failed = static_cast<int>(failed.size());
    for (const auto& id : canceled) RETURN_IF_ERROR(FinishLocked(id, TaskState::kCanceled, now_ms));
    for (const auto& id : failed) RETURN_IF_ERROR(FinishLocked(id, TaskState::kFailed, now_ms));
    ASSIGN_OR_RETURN(Statement * q, writer_->Prepare(
        "UPDATE tasks SET state = 'queued', progress = 0, lease_owner = '', lease_expires_ms = 0, "
        "updated_ms = ?1 WHERE state = 'running' AND lease_expires_ms < ?1"));
    q->Bind(1, now_ms);
    ASSIGN_OR_RETURN(report.requeued, q->Run());
    RETURN_IF_ERROR(tx.Commit());
    return report;
  }

  Result<std::vector<ExpiredOutputs>> ListOutputsFinishedBefore(int64_t cutoff_ms,
                                                                int limit) override {
    return WithReader([&](Db& db) -> Result<std::vector<ExpiredOutputs>> {
      ASSIGN_OR_RETURN(Statement * s, db.Prepare(
          "SELECT id, outputs_json FROM tasks WHERE state = 'succeeded' AND outputs_expired = 0 "
          "AND finished_ms < ?1 ORDER BY finished_ms LIMIT ?2"));
      s->Bind(1, cutoff_ms).Bind(2, limit);
      return s->Collect<ExpiredOutputs>([](const Statement& row) -> Result<ExpiredOutputs> {
        ASSIGN_OR_RETURN(auto outputs, core::DecodeOutputs(row.Text(1)));
        return ExpiredOutputs{row.Text(0), std::move(outputs)};
      });
    });
  }

  Status MarkOutputsExpired(const std::string& task_id) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s,
                     writer_->Prepare("UPDATE tasks SET outputs_expired = 1 WHERE id = ?1"));
    s->Bind(1, task_id);
    return ExpectOneRow(s->Run());
  }

  Result<std::map<TaskState, int64_t>> CountByState() override {
    return WithReader([&](Db& db) -> Result<std::map<TaskState, int64_t>> {
      ASSIGN_OR_RETURN(Statement * s,
                       db.Prepare("SELECT state, COUNT(*) FROM tasks GROUP BY state"));
      std::map<TaskState, int64_t> counts;
      for (;;) {
        ASSIGN_OR_RETURN(bool row, s->Step());
        if (!row) break;
        if (auto st = core::ParseTaskState(s->Text(0))) counts[*st] = s->Int(1);
      }
      return counts;
    });
  }

  // --- KeyStore ---

  Status InsertKey(const ApiKey& k) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "INSERT INTO api_keys (id, name, hash, prefix, created_ms, account_id, rpm_limit, credit_cap, role) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    s->Bind(1, k.id).Bind(2, k.name).Bind(3, k.hash).Bind(4, k.prefix).Bind(5, k.created_ms)
        .Bind(6, k.account_id).Bind(7, k.rpm_limit).Bind(8, k.credit_cap).Bind(9, k.admin ? "admin" : "client");
    return s->Exec();
  }

  Result<ApiKey> FindActiveKeyByHash(const std::string& hash) override {
    return WithReader([&](Db& db) -> Result<ApiKey> {
      ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kKeySelect) + " WHERE hash = ?1 AND revoked_ms = 0"));
      s->Bind(1, hash);
      return s->One<ApiKey>(ReadKey, "no such key");
    });
  }

  Result<std::vector<ApiKey>> ListKeys() override {
    return WithReader([&](Db& db) -> Result<std::vector<ApiKey>> {
      ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kKeySelect) + " ORDER BY created_ms, id"));
      return s->Collect<ApiKey>(ReadKey);
    });
  }

  Status RevokeKey(const std::string& id, int64_t now_ms) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "UPDATE api_keys SET revoked_ms = ?1 WHERE id = ?2 AND revoked_ms = 0"));
    s->Bind(1, now_ms).Bind(2, id);
    ASSIGN_OR_RETURN(int changed, s->Run());
    if (changed == 0) return MakeError(ErrorCode::kNotFound, "no active key with id " + id);
    return Status::Ok();
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
    RETURN_IF_ERROR(CheckGrant(initial));
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "INSERT INTO accounts (id, name, created_ms, unlimited, max_concurrent, webhook_url, webhook_key) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    s->Bind(1, a.id).Bind(2, a.name).Bind(3, now_ms).Bind(4, a.unlimited ? 1 : 0).Bind(5, a.max_concurrent)
        .Bind(6, a.webhook_url).Bind(7, HexEncode(RandomBytes(24)));
    RETURN_IF_ERROR(s->Exec());
    if (initial.subscription > 0 || initial.permanent > 0) RETURN_IF_ERROR(ApplyGrant(a.id, initial, now_ms));
    return tx.Commit();
  }

  Status SetAccountWebhookUrl(const std::string& account_id, const std::string& url) override {
    std::lock_guard lock(writer_mu_);
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare("UPDATE accounts SET webhook_url = ?1 WHERE id = ?2"));
    s->Bind(1, url).Bind(2, account_id);
    ASSIGN_OR_RETURN(int changed, s->Run());
    if (changed == 0) return MakeError(ErrorCode::kNotFound, "no account " + account_id);
    return Status::Ok();
  }

  Result<Account> GetAccount(const std::string& id) override {
    return WithReader([&](Db& db) -> Result<Account> {
      ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kAccountSelect) + " WHERE id = ?1"));
      s->Bind(1, id);
      return s->One<Account>(ReadAccount, "no account " + id);
    });
  }

  Result<std::vector<Account>> ListAccounts() override {
    return WithReader([&](Db& db) -> Result<std::vector<Account>> {
      ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string(kAccountSelect) + " ORDER BY created_ms, id"));
      return s->Collect<Account>(ReadAccount);
    });
  }

  Status GrantCredits(const std::string& account_id, const Grant& g, int64_t now_ms) override {
    RETURN_IF_ERROR(CheckGrant(g));
    std::lock_guard lock(writer_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.Begin());
    RETURN_IF_ERROR(ApplyGrant(account_id, g, now_ms));
    return tx.Commit();
  }

  Result<std::vector<LedgerProblem>> CheckLedger() override {
    return WithReader([&](Db& db) -> Result<std::vector<LedgerProblem>> {
      std::vector<LedgerProblem> problems;
      ASSIGN_OR_RETURN(Statement * b, db.Prepare(
          "SELECT a.id, a.subscription_balance, a.permanent_balance, "
          "COALESCE(SUM(l.delta_subscription), 0), COALESCE(SUM(l.delta_permanent), 0) "
          "FROM accounts a LEFT JOIN ledger l ON l.account_id = a.id GROUP BY a.id"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, b->Step());
        if (!row) break;
        if (b->Int(1) != b->Int(3) || b->Int(2) != b->Int(4)) {
          problems.push_back({b->Text(0), "", fmt::format("balances {}+{} but the ledger sums to {}+{}",
                                                          b->Int(1), b->Int(2), b->Int(3), b->Int(4))});
        }
      }
      ASSIGN_OR_RETURN(Statement * d, db.Prepare(
          "SELECT task_id, MIN(account_id), COUNT(*) FROM ledger WHERE kind = 'hold' GROUP BY task_id HAVING COUNT(*) > 1"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, d->Step());
        if (!row) break;
        problems.push_back({d->Text(1), d->Text(0), fmt::format("{} holds for one task", d->Int(2))});
      }
      ASSIGN_OR_RETURN(Statement * u, db.Prepare(
          "SELECT t.id, t.account_id FROM tasks t LEFT JOIN ledger l ON l.task_id = t.id AND l.kind = 'hold' "
          "WHERE t.usage_total > 0 AND l.id IS NULL"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, u->Step());
        if (!row) break;
        problems.push_back({u->Text(1), u->Text(0), "the task shows a usage but holds nothing"});
      }
      // Each hold: settled exactly once when its task finished, never before; settled for what
      // was held; and the task's usage (which the credit views sum) is what the ledger says it
      // holds or spent.
      ASSIGN_OR_RETURN(Statement * h, db.Prepare(
          "SELECT h.task_id, h.account_id, t.state, COUNT(CASE WHEN s.kind <> 'adjust' THEN 1 END), "
          "COALESCE(SUM(s.amount_subscription), 0) - h.amount_subscription, "
          "COALESCE(SUM(s.amount_permanent), 0) - h.amount_permanent, "
          "CASE WHEN COUNT(CASE WHEN s.kind = 'release' THEN 1 END) > 0 THEN 0 ELSE "
          "h.amount_subscription + h.amount_permanent - COALESCE(SUM(CASE WHEN s.kind = 'adjust' "
          "THEN s.amount_subscription + s.amount_permanent END), 0) END, t.usage_total "
          "FROM ledger h LEFT JOIN tasks t ON t.id = h.task_id "
          "LEFT JOIN ledger s ON s.task_id = h.task_id AND s.kind IN ('adjust', 'capture', 'release') "
          "WHERE h.kind = 'hold' GROUP BY h.id"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, h->Step());
        if (!row) break;
        const std::string state = h->Text(2);
        const bool finished = state == "succeeded" || state == "failed" || state == "canceled";
        const int64_t settlements = h->Int(3);
        if (state.empty()) {
          problems.push_back({h->Text(1), h->Text(0), "hold without a task"});
        } else if (finished && settlements != 1) {
          problems.push_back({h->Text(1), h->Text(0), fmt::format("finished task settled {} times", settlements)});
        } else if (!finished && settlements != 0) {
          problems.push_back({h->Text(1), h->Text(0), "settled before the task finished"});
        } else if (settlements == 1 && (h->Int(4) != 0 || h->Int(5) != 0)) {
          problems.push_back({h->Text(1), h->Text(0), "settled for a different amount than held"});
        } else if (h->Int(6) != h->Int(7)) {
          problems.push_back({h->Text(1), h->Text(0), fmt::format("the task shows a usage of {} but the ledger {}",
                                                                  h->Int(7), h->Int(6))});
        }
      }
      return problems;
    });
  }

  Result<CreditUse> CreditUseOf(const std::string& account_id, const std::string& key_id) override {
    return WithReader([&](Db& db) -> Result<CreditUse> {
      // A task's usage columns change in the same transactions as its ledger entries: what a
      // succeeded task shows was captured, what an unfinished one shows is held.
      ASSIGN_OR_RETURN(Statement * s, db.Prepare(
          "SELECT (SELECT COALESCE(SUM(usage_total), 0) FROM tasks WHERE account_id = ?1 AND state = 'succeeded'), "
          "(SELECT COALESCE(SUM(usage_total), 0) FROM tasks WHERE key_id = ?2 AND state = 'succeeded'), "
          "(SELECT COALESCE(SUM(usage_total), 0) FROM tasks WHERE key_id = ?2 AND state IN ('queued', 'running')), "
          "(SELECT COALESCE(MAX(credit_cap), 0) FROM api_keys WHERE id = ?2)"));
      s->Bind(1, account_id).Bind(2, key_id);
      ASSIGN_OR_RETURN(bool row, s->Step());
      CreditUse use;
      if (row) use = {s->Int(0), s->Int(1), s->Int(2), s->Int(3)};
      s->Reset();
      return use;
    });
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

  // REQUIRES: writer_mu_ held, inside a transaction.
  Result<core::Usage> InsertLocked(const Task& t, const Hold& hold) {
    core::Usage usage;
    Hold h = hold;
    if (h.account_id.empty()) h.account_id = t.account_id;
    ASSIGN_OR_RETURN(AccountRow account, ReadAccountLocked(h.account_id));
    RETURN_IF_ERROR(CheckLimitsLocked(h, account, t.created_ms));
    if (h.amount > 0) {
      ASSIGN_OR_RETURN(usage, HoldLocked(t.id, h.account_id, account, h.amount, t.created_ms));
    }
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "INSERT INTO tasks (id, dialect, key_id, model_alias, client_echo, request_json, state, "
        "created_ms, updated_ms, usage_total, usage_subscription, usage_permanent, account_id, callback_url) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7, ?8, ?9, ?10, ?11, ?12)"));
    s->Bind(1, t.id).Bind(2, t.dialect).Bind(3, t.key_id).Bind(4, t.model_alias)
        .Bind(5, t.client_echo).Bind(6, core::EncodeRequest(t.request)).Bind(7, t.created_ms)
        .Bind(8, usage.total).Bind(9, usage.subscription).Bind(10, usage.permanent)
        .Bind(11, h.account_id).Bind(12, t.request.callback_url);
    RETURN_IF_ERROR(s->Exec());
    return usage;
  }

  static constexpr const char* kAccountSelect =
      "SELECT id, name, created_ms, unlimited, subscription_balance, subscription_expires_ms, "
      "permanent_balance, max_concurrent, webhook_url, webhook_key FROM accounts";

  static Account ReadAccount(const Statement& s) {
    Account a;
    a.id = s.Text(0);
    a.name = s.Text(1);
    a.created_ms = s.Int(2);
    a.unlimited = s.Int(3) != 0;
    a.subscription_balance = s.Int(4);
    a.subscription_expires_ms = s.Int(5);
    a.permanent_balance = s.Int(6);
    a.max_concurrent = s.Int(7);
    a.webhook_url = s.Text(8);
    a.webhook_secret = "whsec_" + Base64Encode(HexDecode(s.Text(9)).value_or(std::vector<uint8_t>{}));
    return a;
  }

  static Status CheckGrant(const Grant& g) {
    if (g.subscription < 0 || g.permanent < 0) {
      return MakeError(ErrorCode::kInvalidInput, "grants add credits; amounts must not be negative");
    }
    return Status::Ok();
  }

  // REQUIRES: writer_mu_ held, inside a transaction.
  Status ApplyGrant(const std::string& account_id, const Grant& g, int64_t now_ms) {
    ASSIGN_OR_RETURN(Statement * u, writer_->Prepare(
        "UPDATE accounts SET subscription_balance = subscription_balance + ?1, "
        "subscription_expires_ms = CASE WHEN ?1 > 0 THEN ?2 ELSE subscription_expires_ms END, "
        "permanent_balance = permanent_balance + ?3 WHERE id = ?4"));
    u->Bind(1, g.subscription).Bind(2, g.subscription_expires_ms).Bind(3, g.permanent).Bind(4, account_id);
    ASSIGN_OR_RETURN(int changed, u->Run());
    if (changed == 0) return MakeError(ErrorCode::kNotFound, "no account " + account_id);
    return AppendLedger(account_id, "", "grant", g.subscription, g.permanent, g.subscription, g.permanent,
                        g.reason, now_ms);
  }

  Status AppendLedger(const std::string& account_id, const std::string& task_id, const char* kind,
                      int64_t amount_sub, int64_t amount_perm, int64_t delta_sub, int64_t delta_perm,
                      const std::string& reason, int64_t now_ms) {
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "INSERT INTO ledger (account_id, task_id, kind, amount_subscription, amount_permanent, "
        "delta_subscription, delta_permanent, reason, created_ms) "
        "VALUES (?1, NULLIF(?2, ''), ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    s->Bind(1, account_id).Bind(2, task_id).Bind(3, kind).Bind(4, amount_sub).Bind(5, amount_perm)
        .Bind(6, delta_sub).Bind(7, delta_perm).Bind(8, reason).Bind(9, now_ms);
    return s->Exec();
  }

  Status AddToBalances(const std::string& account_id, int64_t delta_sub, int64_t delta_perm) {
    ASSIGN_OR_RETURN(Statement * s, writer_->Prepare(
        "UPDATE accounts SET subscription_balance = subscription_balance + ?1, "
        "permanent_balance = permanent_balance + ?2 WHERE id = ?3"));
    s->Bind(1, delta_sub).Bind(2, delta_perm).Bind(3, account_id);
    return ExpectOneRow(s->Run());
  }

  // The account row as the submit's transaction read it, once for the limits and the hold.
  struct AccountRow {
    bool unlimited = false;
    int64_t subscription = 0;
    int64_t subscription_expires_ms = 0;
    int64_t permanent = 0;
    int64_t max_concurrent = 0;
  };

  // REQUIRES: writer_mu_ held, inside a transaction.
  Result<AccountRow> ReadAccountLocked(const std::string& account_id) {
    ASSIGN_OR_RETURN(Statement * a, writer_->Prepare(
        "SELECT unlimited, subscription_balance, subscription_expires_ms, permanent_balance, max_concurrent "
        "FROM accounts WHERE id = ?1"));
    a->Bind(1, account_id);
    ASSIGN_OR_RETURN(bool row, a->Step());
    if (!row) return MakeError(ErrorCode::kInternal, "the key's account " + account_id + " does not exist");
    AccountRow r{a->Int(0) != 0, a->Int(1), a->Int(2), a->Int(3), a->Int(4)};
    a->Reset();
    return r;
  }

  // Rate (token bucket per key, refilled continuously), concurrency (per account) and the
  // key's credit cap. Reading the limit state inside the submit's transaction means an
  // unreadable state refuses the submit rather than letting it through.
  // REQUIRES: writer_mu_ held, inside a transaction.
  Status CheckLimitsLocked(const Hold& hold, const AccountRow& account, int64_t now_ms) {
    int64_t rpm = 0, cap = 0;
    if (!hold.key_id.empty()) {
      ASSIGN_OR_RETURN(Statement * k, writer_->Prepare("SELECT rpm_limit, credit_cap FROM api_keys WHERE id = ?1"));
      k->Bind(1, hold.key_id);
      ASSIGN_OR_RETURN(bool row, k->Step());
      if (row) {
        rpm = k->Int(0);
        cap = k->Int(1);
      }
      k->Reset();
    }
    if (rpm > 0) {
      ASSIGN_OR_RETURN(Statement * b, writer_->Prepare("SELECT tokens, updated_ms FROM key_buckets WHERE key_id = ?1"));
      b->Bind(1, hold.key_id);
      ASSIGN_OR_RETURN(bool row, b->Step());
      const double per_ms = static_cast<double>(rpm) / 60'000.0;
      double tokens = static_cast<double>(rpm);
      if (row) {
        tokens = std::min<double>(static_cast<double>(rpm),
                                  b->Double(0) + static_cast<double>(std::max<int64_t>(0, now_ms - b->Int(1))) * per_ms);
      }
      b->Reset();
      if (tokens < 1.0) {
        Error e = MakeError(ErrorCode::kRateLimited,
                            fmt::format("rate limit: this key may submit {} tasks per minute", rpm));
        e.retry_after_s = static_cast<int>(std::ceil((1.0 - tokens) / per_ms / 1000.0));
        return e;
      }
      ASSIGN_OR_RETURN(Statement * u, writer_->Prepare(
          "INSERT INTO key_buckets (key_id, tokens, updated_ms) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (key_id) DO UPDATE SET tokens = excluded.tokens, updated_ms = excluded.updated_ms"));
      u->Bind(1, hold.key_id).Bind(3, now_ms);
      u->BindDouble(2, tokens - 1.0);
      RETURN_IF_ERROR(u->Exec());
    }
    const int64_t max_concurrent = account.max_concurrent;
    if (max_concurrent > 0) {
      ASSIGN_OR_RETURN(Statement * c, writer_->Prepare(
          "SELECT COUNT(*) FROM tasks WHERE account_id = ?1 AND state IN ('queued', 'running')"));
      c->Bind(1, hold.account_id);
      ASSIGN_OR_RETURN(bool crow, c->Step());
      const int64_t active = crow ? c->Int(0) : 0;
      c->Reset();
      if (active >= max_concurrent) {
        Error e = MakeError(ErrorCode::kRateLimited,
                            fmt::format("concurrency limit: the account already has {} tasks queued or running "
                                        "(limit {})", active, max_concurrent));
        e.retry_after_s = 1;
        return e;
      }
    }
    if (cap > 0 && hold.amount > 0) {
      // What the key's tasks hold or have spent: holds minus what was released.
      ASSIGN_OR_RETURN(Statement * c, writer_->Prepare(
          "SELECT COALESCE(SUM(CASE WHEN l.kind = 'hold' THEN l.amount_subscription + l.amount_permanent "
          "WHEN l.kind IN ('adjust', 'release') THEN -(l.amount_subscription + l.amount_permanent) ELSE 0 END), 0) "
          "FROM ledger l JOIN tasks t ON t.id = l.task_id WHERE t.key_id = ?1"));
      c->Bind(1, hold.key_id);
      ASSIGN_OR_RETURN(bool crow, c->Step());
      const int64_t used = crow ? c->Int(0) : 0;
      c->Reset();
      if (used + hold.amount > cap) {
        return MakeError(ErrorCode::kInsufficientCredits,
                         fmt::format("this key's credit cap is {}; {} are used and the task costs {}", cap, used,
                                     hold.amount));
      }
    }
    return Status::Ok();
  }

  // REQUIRES: writer_mu_ held, inside a transaction.
  Result<core::Usage> HoldLocked(const std::string& task_id, const std::string& account_id,
                                 const AccountRow& account, int64_t amount, int64_t now_ms) {
    const bool unlimited = account.unlimited;
    const int64_t sub = account.subscription;
    const bool sub_live = account.subscription_expires_ms > now_ms;
    const int64_t perm = account.permanent;
    if (sub > 0 && !sub_live) {
      // An expired subscription's credits lapse; recorded so the ledger explains the balance.
      RETURN_IF_ERROR(AppendLedger(account_id, "", "expire", sub, 0, -sub, 0, "subscription expired", now_ms));
      RETURN_IF_ERROR(AddToBalances(account_id, -sub, 0));
    }
    const int64_t sub_available = sub_live ? std::max<int64_t>(0, sub) : 0;
    if (!unlimited && sub_available + perm < amount) {
      return MakeError(ErrorCode::kInsufficientCredits,
                       fmt::format("insufficient credits: this task costs {}, the account has {} available",
                                   amount, sub_available + std::max<int64_t>(0, perm)));
    }
    core::Usage usage;
    usage.total = amount;
    usage.subscription = std::min(sub_available, amount);
    usage.permanent = amount - usage.subscription;
    // An unlimited account records what a task costs without drawing on its balances.
    const int64_t draw_sub = unlimited ? 0 : usage.subscription;
    const int64_t draw_perm = unlimited ? 0 : usage.permanent;
    RETURN_IF_ERROR(AppendLedger(account_id, task_id, "hold", usage.subscription, usage.permanent, -draw_sub,
                                 -draw_perm, unlimited ? "unlimited account" : "", now_ms));
    RETURN_IF_ERROR(AddToBalances(account_id, -draw_sub, -draw_perm));
    return usage;
  }

  // Everything that happens with a task's terminal transition, in its transaction: the hold
  // is settled, then the callback (if any) is put in the outbox.
  // REQUIRES: writer_mu_ held, inside a transaction.
  Status FinishLocked(const std::string& task_id, TaskState final_state, int64_t now_ms) {
    RETURN_IF_ERROR(SettleLocked(task_id, final_state == TaskState::kSucceeded, now_ms));
    RETURN_IF_ERROR(sqlite::CloseUpstreamJob(*writer_, task_id));
    return sqlite::EnqueueCallback(*writer_, task_id, final_state, now_ms);
  }

  // Settles a task's hold, if it has one: capture keeps the credits spent; release returns
  // them (the subscription part only while the subscription is live). The unique index on
  // settlements makes a second settlement fail, and with it the whole transition.
  // REQUIRES: writer_mu_ held, inside a transaction.
  Status SettleLocked(const std::string& task_id, bool capture, int64_t now_ms) {
    ASSIGN_OR_RETURN(std::optional<HeldCredits> held, HeldLocked(task_id));
    if (!held) return Status::Ok();
    const HeldCredits& h = *held;
    if (capture) {
      return AppendLedger(h.account_id, task_id, "capture", h.sub, h.perm, 0, 0, "", now_ms);
    }
    // What was drawn goes back where it came from; a subscription that expired meanwhile
    // takes its part with it.
    const int64_t sub_back = h.sub_expires_ms > now_ms ? h.drawn_sub : 0;
    RETURN_IF_ERROR(AppendLedger(h.account_id, task_id, "release", h.sub, h.perm, sub_back, h.drawn_perm,
                                 sub_back < h.drawn_sub ? "subscription expired meanwhile; its part lapsed" : "",
                                 now_ms));
    RETURN_IF_ERROR(AddToBalances(h.account_id, sub_back, h.drawn_perm));
    return SetUsageLocked(task_id, {});
  }

  // A task's hold as it stands: what was held, less what an adjustment gave back.
  struct HeldCredits {
    std::string account_id;
    int64_t sub = 0, perm = 0;              // held
    int64_t drawn_sub = 0, drawn_perm = 0;  // taken from the balances (0 on an unlimited account)
    int64_t sub_expires_ms = 0;
  };

  // REQUIRES: writer_mu_ held, inside a transaction.
  // The task's usage columns are its hold as it stands (they change with every hold, adjust and
  // release, in the same transaction), so settling needs no lookup in the ledger.
  Result<std::optional<HeldCredits>> HeldLocked(const std::string& task_id) {
    ASSIGN_OR_RETURN(Statement * h, writer_->Prepare(
        "SELECT t.account_id, t.usage_subscription, t.usage_permanent, a.subscription_expires_ms, a.unlimited "
        "FROM tasks t JOIN accounts a ON a.id = t.account_id WHERE t.id = ?1 AND t.usage_total > 0"));
    h->Bind(1, task_id);
    ASSIGN_OR_RETURN(bool row, h->Step());
    if (!row) return std::optional<HeldCredits>();
    const bool unlimited = h->Int(4) != 0;
    HeldCredits c{h->Text(0), h->Int(1), h->Int(2), unlimited ? 0 : h->Int(1), unlimited ? 0 : h->Int(2), h->Int(3)};
    h->Reset();
    return std::optional<HeldCredits>(c);
  }

  // REQUIRES: writer_mu_ held, inside a transaction.
  Status SetUsageLocked(const std::string& task_id, const core::Usage& usage) {
    ASSIGN_OR_RETURN(Statement * u, writer_->Prepare(
        "UPDATE tasks SET usage_total = ?1, usage_subscription = ?2, usage_permanent = ?3 WHERE id = ?4"));
    u->Bind(1, usage.total).Bind(2, usage.subscription).Bind(3, usage.permanent).Bind(4, task_id);
    return ExpectOneRow(u->Run());
  }

  static std::string ReadId(const Statement& s) { return s.Text(0); }

  static constexpr const char* kKeySelect =
      "SELECT id, name, hash, prefix, created_ms, revoked_ms, account_id, rpm_limit, credit_cap, role FROM api_keys";

  static ApiKey ReadKey(const Statement& s) {
    ApiKey k;
    k.id = s.Text(0);
    k.name = s.Text(1);
    k.hash = s.Text(2);
    k.prefix = s.Text(3);
    k.created_ms = s.Int(4);
    k.revoked_ms = s.Int(5);
    k.account_id = s.Text(6);
    k.rpm_limit = s.Int(7);
    k.credit_cap = s.Int(8);
    k.admin = s.Text(9) == "admin";
    return k;
  }

  static Status ExpectOneRow(const Result<int>& changed) {
    return sqlite::ExpectChanged(changed, "task state changed meanwhile");
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
