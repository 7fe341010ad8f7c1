#include "store/sqlite/migrations.h"

namespace wanserve::store::sqlite {

const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: tasks and API keys.
      R"sql(
CREATE TABLE api_keys (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  hash        TEXT NOT NULL UNIQUE,
  prefix      TEXT NOT NULL,
  created_ms  INTEGER NOT NULL,
  revoked_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE tasks (
  id                 TEXT PRIMARY KEY,
  dialect            TEXT NOT NULL,
  key_id             TEXT NOT NULL,
  model_alias        TEXT NOT NULL,
  client_echo        TEXT NOT NULL,
  request_json       TEXT NOT NULL,
  state              TEXT NOT NULL CHECK (state IN ('queued','running','succeeded','failed','canceled')),
  progress           INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  attempts           INTEGER NOT NULL DEFAULT 0,
  cancel_requested   INTEGER NOT NULL DEFAULT 0,
  lease_owner        TEXT NOT NULL DEFAULT '',
  lease_expires_ms   INTEGER NOT NULL DEFAULT 0,
  created_ms         INTEGER NOT NULL,
  started_ms         INTEGER NOT NULL DEFAULT 0,
  finished_ms        INTEGER NOT NULL DEFAULT 0,
  updated_ms         INTEGER NOT NULL,
  error_class        TEXT NOT NULL DEFAULT '',
  error_code         TEXT NOT NULL DEFAULT '',
  error_message      TEXT NOT NULL DEFAULT '',
  outputs_json       TEXT NOT NULL DEFAULT '[]',
  outputs_expired    INTEGER NOT NULL DEFAULT 0,
  provider           TEXT NOT NULL DEFAULT '',
  usage_total        INTEGER NOT NULL DEFAULT 0,
  usage_subscription INTEGER NOT NULL DEFAULT 0,
  usage_permanent    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_queue ON tasks (state, created_ms);
CREATE INDEX tasks_by_key ON tasks (key_id, state, created_ms);
CREATE INDEX tasks_finished ON tasks (state, outputs_expired, finished_ms);
)sql",
      // 2: accounts and the credit ledger. Balances are the credits available (not held);
      // every change to them is a ledger row whose deltas sum to the balance.
      R"sql(
CREATE TABLE accounts (
  id                      TEXT PRIMARY KEY,
  name                    TEXT NOT NULL UNIQUE,
  created_ms              INTEGER NOT NULL,
  unlimited               INTEGER NOT NULL DEFAULT 0,
  subscription_balance    INTEGER NOT NULL DEFAULT 0,
  subscription_expires_ms INTEGER NOT NULL DEFAULT 0,
  permanent_balance       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO accounts (id, name, created_ms, unlimited) VALUES ('acct_default', 'default', 0, 1);
ALTER TABLE api_keys ADD COLUMN account_id TEXT NOT NULL DEFAULT 'acct_default' REFERENCES accounts(id);
ALTER TABLE tasks ADD COLUMN account_id TEXT NOT NULL DEFAULT 'acct_default';
CREATE TABLE ledger (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id          TEXT NOT NULL REFERENCES accounts(id),
  task_id             TEXT,
  kind                TEXT NOT NULL CHECK (kind IN ('grant', 'hold', 'capture', 'release', 'expire')),
  amount_subscription INTEGER NOT NULL,
  amount_permanent    INTEGER NOT NULL,
  delta_subscription  INTEGER NOT NULL,
  delta_permanent     INTEGER NOT NULL,
  reason              TEXT NOT NULL DEFAULT '',
  created_ms          INTEGER NOT NULL
);
CREATE INDEX ledger_by_account ON ledger (account_id, id);
-- A task holds at most once and settles (capture or release) at most once.
CREATE UNIQUE INDEX ledger_one_hold ON ledger (task_id) WHERE kind = 'hold';
CREATE UNIQUE INDEX ledger_one_settlement ON ledger (task_id) WHERE kind IN ('capture', 'release');
)sql",
      // 3: limits. Kept in the store so that several server processes share them.
      R"sql(
ALTER TABLE accounts ADD COLUMN max_concurrent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN rpm_limit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN credit_cap INTEGER NOT NULL DEFAULT 0;
CREATE TABLE key_buckets (
  key_id     TEXT PRIMARY KEY,
  tokens     REAL NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE INDEX tasks_active_by_account ON tasks (account_id, state);
)sql",
      // 4: the callback outbox. Accounts get a webhook signing key (hex; shown as whsec_ +
      // base64) and an optional default endpoint for tasks that name none.
      R"sql(
ALTER TABLE accounts ADD COLUMN webhook_key TEXT NOT NULL DEFAULT '';
UPDATE accounts SET webhook_key = lower(hex(randomblob(24)));
ALTER TABLE accounts ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN callback_url TEXT NOT NULL DEFAULT '';
CREATE TABLE callbacks (
  id              TEXT PRIMARY KEY,
  task_id         TEXT NOT NULL,
  account_id      TEXT NOT NULL,
  url             TEXT NOT NULL,
  event           TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  created_ms      INTEGER NOT NULL,
  finished_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX callbacks_due ON callbacks (state, next_attempt_ms);
CREATE INDEX callbacks_by_task ON callbacks (task_id, created_ms);
CREATE TABLE callback_attempts (
  callback_id TEXT NOT NULL REFERENCES callbacks(id),
  attempt     INTEGER NOT NULL,
  started_ms  INTEGER NOT NULL,
  latency_ms  INTEGER NOT NULL,
  status_code INTEGER NOT NULL,
  error       TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (callback_id, attempt)
);
)sql",
      // 5: tasks run on an upstream service: the two-phase submit and the poll schedule.
      R"sql(
CREATE TABLE upstream_jobs (
  task_id      TEXT PRIMARY KEY REFERENCES tasks(id),
  provider     TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('submitting', 'submitted', 'done')),
  upstream_id  TEXT NOT NULL DEFAULT '',
  submitted_ms INTEGER NOT NULL DEFAULT 0,
  next_poll_ms INTEGER NOT NULL DEFAULT 0,
  polls        INTEGER NOT NULL DEFAULT 0,
  last_status  TEXT NOT NULL DEFAULT '',
  usage_json   TEXT NOT NULL DEFAULT '',
  created_ms   INTEGER NOT NULL
);
CREATE INDEX upstream_jobs_due ON upstream_jobs (state, next_poll_ms);
)sql",
      // 6: 'adjust' entries lower a hold before it settles (a video edit held for the longest
      // input until its input was probed), at most once per task. SQLite cannot change a CHECK
      // constraint in place, so the table is rebuilt with its rows and ids. The rebuild also
      // drops two per-row costs of every submit (docs/performance.md): AUTOINCREMENT (ids still
      // grow, as ledger rows are never deleted) and the foreign key check on account_id (every
      // ledger write reads its account row in the same transaction first). The per-account
      // index goes too: the credit views sum the tasks' usage columns (kept in the same
      // transactions as the ledger) through the tasks' indexes instead; and so does the unique
      // index on holds: a hold is written only in the transaction that inserts its task, whose
      // primary key already makes it one per task (the ledger check still counts them).
      R"sql(
CREATE TABLE ledger_v6 (
  id                  INTEGER PRIMARY KEY,
  account_id          TEXT NOT NULL,
  task_id             TEXT,
  kind                TEXT NOT NULL CHECK (kind IN ('grant', 'hold', 'adjust', 'capture', 'release', 'expire')),
  amount_subscription INTEGER NOT NULL,
  amount_permanent    INTEGER NOT NULL,
  delta_subscription  INTEGER NOT NULL,
  delta_permanent     INTEGER NOT NULL,
  reason              TEXT NOT NULL DEFAULT '',
  created_ms          INTEGER NOT NULL
);
INSERT INTO ledger_v6 SELECT * FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v6 RENAME TO ledger;
CREATE UNIQUE INDEX ledger_one_adjust ON ledger (task_id) WHERE kind = 'adjust';
CREATE UNIQUE INDEX ledger_one_settlement ON ledger (task_id) WHERE kind IN ('capture', 'release');
)sql",
      // 7: admin tokens are keys with the admin role; they open /admin/v1 and nothing else.
      R"sql(
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'client' CHECK (role IN ('client', 'admin'));
)sql",
      // 8: files clients upload through the providers' upload APIs; the bytes are blobs.
      R"sql(
CREATE TABLE uploaded_files (
  id            TEXT PRIMARY KEY,
  key_id        TEXT NOT NULL,
  api           TEXT NOT NULL,
  path          TEXT NOT NULL,
  name          TEXT NOT NULL,
  original_name TEXT NOT NULL,
  blob_id       TEXT NOT NULL,
  mime_type     TEXT NOT NULL,
  bytes         INTEGER NOT NULL,
  model         TEXT NOT NULL,
  created_ms    INTEGER NOT NULL,
  expires_ms    INTEGER NOT NULL
);
CREATE INDEX uploaded_files_by_key ON uploaded_files (key_id, api, created_ms);
CREATE INDEX uploaded_files_by_name ON uploaded_files (key_id, api, path, name);
CREATE INDEX uploaded_files_by_expiry ON uploaded_files (expires_ms);
)sql",
      // 9: Idempotency-Key headers of submits: one live task per key and header value.
      R"sql(
CREATE TABLE idempotency_keys (
  key_id          TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_hash    TEXT NOT NULL,
  task_id         TEXT NOT NULL,
  created_ms      INTEGER NOT NULL,
  PRIMARY KEY (key_id, idempotency_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_ms);
)sql",
      // 10: each task's route (model/kind), so that workers claim only what they serve. Tasks
      // queued before have none and any worker may claim them, as before.
      R"sql(
ALTER TABLE tasks ADD COLUMN route TEXT NOT NULL DEFAULT '';
)sql",
      // 11: callbacks past their retries stay as dead letters until resent (resent_as names
      // the new delivery); each receiving endpoint's failure streak, and whether it was
      // disabled for failing too long.
      R"sql(
ALTER TABLE callbacks ADD COLUMN resent_as TEXT NOT NULL DEFAULT '';
CREATE INDEX callbacks_dead ON callbacks (created_ms) WHERE state = 'failed' AND resent_as = '';
CREATE TABLE callback_endpoints (
  endpoint             TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,
  failing_since_ms     INTEGER NOT NULL,
  last_attempt_ms      INTEGER NOT NULL,
  last_error           TEXT NOT NULL,
  disabled_ms          INTEGER NOT NULL
);
)sql",
  };
  return kMigrations;
}

}  // namespace wanserve::store::sqlite
