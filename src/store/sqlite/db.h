#pragma once
// A thin RAII layer over one sqlite3 connection with a cache of prepared statements.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common/error.h"

namespace wanserve::store::sqlite {

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, int64_t v);
  Statement& Bind(int index, int v) { return Bind(index, static_cast<int64_t>(v)); }
  Statement& Bind(int index, std::string_view v);
  Statement& Bind(int index, const std::string& v) { return Bind(index, std::string_view(v)); }
  Statement& Bind(int index, const char* v) { return Bind(index, std::string_view(v)); }
  Statement& BindDouble(int index, double v) {
    sqlite3_bind_double(stmt_, index, v);
    return *this;
  }

  // Steps once: true when a row is available, false when done. Errors are returned as values.
  Result<bool> Step();
  // Steps to completion; returns the number of rows changed.
  Result<int> Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

  void Reset();

  // Runs to completion when the row count does not matter.
  Status Exec() {
    auto r = Run();
    if (!r.ok()) return r.error();
    return Status::Ok();
  }

  // The first row, read by read (returning T or Result<T>), or kNotFound saying not_found.
  template <typename T, typename ReadFn>
  Result<T> One(ReadFn read, const std::string& not_found) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return MakeError(ErrorCode::kNotFound, not_found);
    Result<T> value = read(*this);
    Reset();
    return value;
  }

  // Steps through every row and collects read(*this) for each. read returns T, or Result<T>
  // whose first error ends the walk (and resets the statement).
  template <typename T, typename ReadFn>
  Result<std::vector<T>> Collect(ReadFn read) {
    std::vector<T> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return out;
      if constexpr (std::is_same_v<std::invoke_result_t<ReadFn, const Statement&>, Result<T>>) {
        auto value = read(*this);
        if (!value.ok()) {
          Reset();
          return value.error();
        }
        out.push_back(std::move(value).value());
      } else {
        out.push_back(read(*this));
      }
    }
  }

 private:
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> Open(const std::string& path, int busy_timeout_ms);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Status Exec(const std::string& sql);
  // Cached prepared statement, reset and with bindings cleared, ready to bind.
  Result<Statement*> Prepare(const std::string& sql);
  int Changes() const { return sqlite3_changes(db_); }
  std::string LastError() const { return sqlite3_errmsg(db_); }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// Maps an SQLite result code to our taxonomy: busy/locked/IO become kUnavailable, constraint
// violations kConflict, anything else kInternal.
Error SqliteError(int rc, const std::string& what);

// A compare-and-swap write: kConflict saying what when it changed no row.
Status ExpectChanged(const Result<int>& changed, const char* what);

// RAII transaction: BEGIN IMMEDIATE on construction, ROLLBACK unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace wanserve::store::sqlite
