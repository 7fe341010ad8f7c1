#pragma once
// The shared backend: every store interface over one PostgreSQL database, for many API and
// worker nodes (docs/scale-out.md). Submits of an account serialise on its row; claims and
// sweeps take rows with SKIP LOCKED; leases run on the database's clock.
#include <memory>
#include <string>

#include "store/task_store.h"

namespace wanserve::store {

struct PostgresOptions {
  std::string url;          // postgresql://user@host:port/db?… or libpq key=value pairs
  int max_connections = 8;  // opened as needed, kept while healthy
};

// Connects and migrates the database (once, however many nodes start together).
Result<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// Whether a store URL names PostgreSQL (postgres:// or postgresql://).
bool IsPostgresUrl(const std::string& url);

}  // namespace wanserve::store
