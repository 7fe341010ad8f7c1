#pragma once
// The embedded backend: every store interface over one SQLite file (WAL, one writer, a pool of
// readers). The default for a single node.
#include <memory>
#include <string>

#include "store/task_store.h"

namespace wanserve::store {

struct SqliteOptions {
  std::string path;  // database file
  int busy_timeout_ms = 5000;
  // FULL: every commit is fsynced before it returns (a power loss loses no acknowledged
  // write); NORMAL (default): fsynced at checkpoints (docs/durability.md).
  bool synchronous_full = false;
  int reader_connections = 4;
};

// Opens (creating when absent) and migrates the database.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace wanserve::store
