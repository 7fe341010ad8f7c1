#pragma once
// The PostgreSQL schema, as migrations applied in order. Tables and columns are those of the
// SQLite schema (store/sqlite/migrations.cpp) as it stands, so the SQL in store/sql/ serves both.
#include <string>
#include <vector>

#include "common/error.h"
#include "store/postgres/pg_connection.h"

namespace wanserve::store::postgres {

const std::vector<std::string>& Migrations();

// Applies the migrations the database lacks in one transaction under an advisory lock, so
// that nodes booting together migrate once; kUnavailable when the database is newer than
// this binary.
Status Migrate(PgConnection& db);

}  // namespace wanserve::store::postgres
