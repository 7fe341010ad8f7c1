#include "store/postgres/schema.h"

#include <fmt/format.h>

namespace wanserve::store::postgres {
namespace {

// pg_advisory_xact_lock key of schema migrations ("wanserve" in ASCII).
constexpr const char* kMigrationLock = "8531474357118575205";

}  // namespace

const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: the schema of SQLite migration 10. Integers are BIGINT throughout (every value is
      // bound as int8). tasks and callbacks carry a `rowid` identity column that stands for
      // SQLite's implicit one: the order rows were inserted in, which breaks ties in listings
      // and in the queue.
      R"sql(
CREATE TABLE accounts (
  id                      TEXT PRIMARY KEY,
  name                    TEXT NOT NULL UNIQUE,
  created_ms              BIGINT NOT NULL,
  unlimited               BIGINT NOT NULL DEFAULT 0,
  subscription_balance    BIGINT NOT NULL DEFAULT 0,
  subscription_expires_ms BIGINT NOT NULL DEFAULT 0,
  permanent_balance       BIGINT NOT NULL DEFAULT 0,
  max_concurrent          BIGINT NOT NULL DEFAULT 0,
  webhook_key             TEXT NOT NULL DEFAULT '',
  webhook_url             TEXT NOT NULL DEFAULT ''
);
-- The default account's signing key: 48 hex digits from two random UUIDs (244 random bits).
INSERT INTO accounts (id, name, created_ms, unlimited, webhook_key) VALUES ('acct_default', 'default', 0, 1,
  substr(encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 1, 48));
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE,
  prefix      TEXT NOT NULL,
  created_ms  BIGINT NOT NULL,
  revoked_ms  BIGINT NOT NULL DEFAULT 0,
  account_id  TEXT NOT NULL DEFAULT 'acct_default' REFERENCES accounts(id),
  rpm_limit   BIGINT NOT NULL DEFAULT 0,
  credit_cap  BIGINT NOT NULL DEFAULT 0,
  role        TEXT NOT NULL DEFAULT 'client' CHECK (role IN ('client', 'admin'))
);
CREATE TABLE tasks (
  rowid              BIGINT GENERATED ALWAYS AS IDENTITY,
  id                 TEXT PRIMARY KEY,
  dialect            TEXT NOT NULL,
  key_id             TEXT NOT NULL,
  model_alias        TEXT NOT NULL,
  client_echo        TEXT NOT NULL,
  request_json       TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','canceled')),
  progress           BIGINT NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  attempts           BIGINT NOT NULL DEFAULT 0,
  cancel_requested   BIGINT NOT NULL DEFAULT 0,
  lease_owner        TEXT NOT NULL DEFAULT '',
  lease_expires_ms   BIGINT NOT NULL DEFAULT 0,
  created_ms         BIGINT NOT NULL,
  started_ms         BIGINT NOT NULL DEFAULT 0,
  finished_ms        BIGINT NOT NULL DEFAULT 0,
  updated_ms         BIGINT NOT NULL,
  error_class        TEXT NOT NULL DEFAULT '',
  error_code         TEXT NOT NULL DEFAULT '',
  error_message      TEXT NOT NULL DEFAULT '',
  outputs_json       TEXT NOT NULL DEFAULT '[]',
  outputs_expired    BIGINT NOT NULL DEFAULT 0,
  provider           TEXT NOT NULL DEFAULT '',
  usage_total        BIGINT NOT NULL DEFAULT 0,
  usage_subscription BIGINT NOT NULL DEFAULT 0,
  usage_permanent    BIGINT NOT NULL DEFAULT 0,
  account_id         TEXT NOT NULL DEFAULT 'acct_default',
  callback_url       TEXT NOT NULL DEFAULT '',
  route              TEXT NOT NULL DEFAULT ''
) WITH (fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
-- Claims read the queue through a partial index that holds only queued tasks, so a claim
-- costs the same after a million finished tasks as after none; the lease sweep reads the
-- running ones likewise. No index holds the lease expiry, progress or update time: renewals
-- and progress writes then stay HOT updates (in place, in the page the fillfactor leaves
-- free) and leave no index entries behind. The request JSON needs no table of its own:
-- PostgreSQL keeps a large value out of line (TOAST), and a HOT update does not copy it.
CREATE INDEX tasks_queue ON tasks (created_ms, rowid) WHERE state = 'queued';
CREATE INDEX tasks_running ON tasks (id) WHERE state = 'running';
CREATE INDEX tasks_by_key ON tasks (key_id, state, created_ms);
CREATE INDEX tasks_active_by_account ON tasks (account_id, state);
CREATE INDEX tasks_finished ON tasks (finished_ms) WHERE state = 'succeeded' AND outputs_expired = 0;
CREATE TABLE ledger (
  id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id          TEXT NOT NULL,
  task_id             TEXT,
  kind                TEXT NOT NULL CHECK (kind IN ('grant', 'hold', 'adjust', 'capture', 'release', 'expire')),
  amount_subscription BIGINT NOT NULL,
  amount_permanent    BIGINT NOT NULL,
  delta_subscription  BIGINT NOT NULL,
  delta_permanent     BIGINT NOT NULL,
  reason              TEXT NOT NULL DEFAULT '',
  created_ms          BIGINT NOT NULL
);
CREATE INDEX ledger_by_task ON ledger (task_id);
CREATE INDEX ledger_by_account ON ledger (account_id);
CREATE UNIQUE INDEX ledger_one_adjust ON ledger (task_id) WHERE kind = 'adjust';
CREATE UNIQUE INDEX ledger_one_settlement ON ledger (task_id) WHERE kind IN ('capture', 'release');
CREATE TABLE key_buckets (
  key_id     TEXT PRIMARY KEY,
  tokens     DOUBLE PRECISION NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE TABLE callbacks (
  rowid           BIGINT GENERATED ALWAYS AS IDENTITY,
  id              TEXT PRIMARY KEY,
  task_id         TEXT NOT NULL,
  account_id      TEXT NOT NULL,
  url             TEXT NOT NULL,
  event           TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        BIGINT NOT NULL DEFAULT 0,
  next_attempt_ms BIGINT NOT NULL,
  created_ms      BIGINT NOT NULL,
  finished_ms     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX callbacks_due ON callbacks (next_attempt_ms) WHERE state = 'pending';
CREATE INDEX callbacks_by_task ON callbacks (task_id, created_ms);
CREATE TABLE callback_attempts (
  callback_id TEXT NOT NULL REFERENCES callbacks(id),
  attempt     BIGINT NOT NULL,
  started_ms  BIGINT NOT NULL,
  latency_ms  BIGINT NOT NULL,
  status_code BIGINT NOT NULL,
  error       TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (callback_id, attempt)
);
CREATE TABLE upstream_jobs (
  task_id      TEXT PRIMARY KEY REFERENCES tasks(id),
  provider     TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('submitting', 'submitted', 'done')),
  upstream_id  TEXT NOT NULL DEFAULT '',
  submitted_ms BIGINT NOT NULL DEFAULT 0,
  next_poll_ms BIGINT NOT NULL DEFAULT 0,
  polls        BIGINT NOT NULL DEFAULT 0,
  last_status  TEXT NOT NULL DEFAULT '',
  usage_json   TEXT NOT NULL DEFAULT '',
  created_ms   BIGINT NOT NULL
);
CREATE INDEX upstream_jobs_due ON upstream_jobs (next_poll_ms) WHERE state = 'submitted';
CREATE TABLE uploaded_files (
  id            TEXT PRIMARY KEY,
  key_id        TEXT NOT NULL,
  api           TEXT NOT NULL,
  path          TEXT NOT NULL,
  name          TEXT NOT NULL,
  original_name TEXT NOT NULL,
  blob_id       TEXT NOT NULL,
  mime_type     TEXT NOT NULL,
  bytes         BIGINT NOT NULL,
  model         TEXT NOT NULL,
  created_ms    BIGINT NOT NULL,
  expires_ms    BIGINT NOT NULL
);
CREATE INDEX uploaded_files_by_key ON uploaded_files (key_id, api, created_ms);
CREATE INDEX uploaded_files_by_name ON uploaded_files (key_id, api, path, name);
CREATE INDEX uploaded_files_by_expiry ON uploaded_files (expires_ms);
CREATE TABLE idempotency_keys (
  key_id          TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash    TEXT NOT NULL,
  task_id         TEXT NOT NULL,
  created_ms      BIGINT NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_ms);
)sql",
      // 2: SQLite migration 11: dead letters and the health of callback endpoints.
      R"sql(
ALTER TABLE callbacks ADD COLUMN resent_as TEXT NOT NULL DEFAULT '';
CREATE INDEX callbacks_dead ON callbacks (created_ms) WHERE state = 'failed' AND resent_as = '';
CREATE TABLE callback_endpoints (
  endpoint             TEXT PRIMARY KEY,
  consecutive_failures BIGINT NOT NULL,
  failing_since_ms     BIGINT NOT NULL,
  last_attempt_ms      BIGINT NOT NULL,
  last_error           TEXT NOT NULL,
  disabled_ms          BIGINT NOT NULL
);
)sql",
  };
  return kMigrations;
}

Status Migrate(PgConnection& db) {
  sql::Transaction tx(db);
  RETURN_IF_ERROR(tx.Begin());
  // Held until commit: a node that boots meanwhile waits here, then finds the schema current.
  RETURN_IF_ERROR(db.Exec(fmt::format("SELECT pg_advisory_xact_lock({})", kMigrationLock)));
  RETURN_IF_ERROR(db.Exec("CREATE TABLE IF NOT EXISTS wanserve_schema (version BIGINT NOT NULL)"));
  ASSIGN_OR_RETURN(sql::Statement * v, db.Prepare("SELECT COALESCE(MAX(version), 0) FROM wanserve_schema"));
  ASSIGN_OR_RETURN(int64_t version, v->One<int64_t>([](const sql::Statement& s) { return s.Int(0); }, "no version"));
  const auto& migrations = Migrations();
  if (version > static_cast<int64_t>(migrations.size())) {
    return MakeError(ErrorCode::kUnavailable, fmt::format("database schema version {} is newer than this binary ({})",
                                                          version, migrations.size()));
  }
  for (size_t i = static_cast<size_t>(version); i < migrations.size(); ++i) {
    RETURN_IF_ERROR(db.Exec(migrations[i]));
  }
  RETURN_IF_ERROR(db.Exec("DELETE FROM wanserve_schema"));
  RETURN_IF_ERROR(db.Exec(fmt::format("INSERT INTO wanserve_schema (version) VALUES ({})", migrations.size())));
  return tx.Commit();
}

}  // namespace wanserve::store::postgres
