#pragma once
// A thin RAII layer over one sqlite3 connection with a cache of prepared statements: the
// SQLite side of store/sql/connection.h.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.h"
#include "store/sql/connection.h"

namespace wanserve::store::sqlite {

class SqliteStatement final : public sql::Statement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement() override;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  Statement& BindInt(int index, int64_t v) override;
  Statement& BindText(int index, std::string_view v) override;
  Statement& BindDouble(int index, double v) override;
  Result<bool> Step() override;
  Result<int> Run() override;
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const override;
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  void Reset() override { sqlite3_reset(stmt_); }
  // Reset and clear the bindings, for the next user of the cached statement.
  void Clear();

 private:
  sqlite3_stmt* stmt_;
};

class Db final : public sql::Connection {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int busy_timeout_ms, bool synchronous_full = false);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
  Status Exec(const std::string& sql) override;
  Result<sql::Statement*> Prepare(const std::string& sql) override;
  int Changes() const { return sqlite3_changes(db_); }
  std::string LastError() const { return sqlite3_errmsg(db_); }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> cache_;
};

// Maps an SQLite result code to our taxonomy: busy/locked/IO become kUnavailable, constraint
// violations kConflict, anything else kInternal.
Error SqliteError(int rc, const std::string& what);

}  // namespace wanserve::store::sqlite
