#pragma once
// What the SQL shared by both backends (store/sql/*_sql.cpp) needs of a database connection:
// cached prepared statements with numbered parameters (?1, ?2, …), stepped row by row. SQLite
// (store/sqlite/db.h) and PostgreSQL (store/postgres/pg_connection.h) implement it; the few
// places where their SQL differs ask the connection's dialect.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"

namespace wanserve::store::sql {

enum class Dialect { kSqlite, kPostgres };

class Statement {
 public:
  virtual ~Statement() = default;

  Statement& Bind(int index, int64_t v) { return BindInt(index, v); }
  Statement& Bind(int index, int v) { return BindInt(index, v); }
  Statement& Bind(int index, std::string_view v) { return BindText(index, v); }
  Statement& Bind(int index, const std::string& v) { return BindText(index, v); }
  Statement& Bind(int index, const char* v) { return BindText(index, v); }
  virtual Statement& BindInt(int index, int64_t v) = 0;
  virtual Statement& BindText(int index, std::string_view v) = 0;
  virtual Statement& BindDouble(int index, double v) = 0;

  // Steps once: true when a row is available, false when done. Errors are returned as values.
  virtual Result<bool> Step() = 0;
  // Steps to completion; returns the number of rows changed (or returned, for a SELECT).
  virtual Result<int> Run() = 0;

  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual std::string Text(int col) const = 0;  // "" for NULL
  virtual bool IsNull(int col) const = 0;

  // Ends the current execution; the bindings stay.
  virtual void Reset() = 0;

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
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs SQL without parameters or rows (DDL, transaction control).
  virtual Status Exec(const std::string& sql) = 0;
  // Cached prepared statement, reset and with bindings cleared, ready to bind.
  virtual Result<Statement*> Prepare(const std::string& sql) = 0;
};

// RAII transaction: begun by Begin (SQLite: BEGIN IMMEDIATE, taking the write lock at once so
// the transaction never fails to upgrade later), rolled back unless Commit succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // begin: the statement that opens it, when not the dialect's default (an isolation level).
  Status Begin(const char* begin = nullptr);
  Status Commit();

 private:
  Connection& db_;
  bool open_ = false;
};

// A compare-and-swap write: kConflict saying what when it changed no row.
Status ExpectChanged(const Result<int>& changed, const char* what);

// Appended to a subquery that picks rows to change: on PostgreSQL the picked rows are locked
// and rows another transaction holds are skipped, so claims and sweeps on several nodes take
// disjoint rows instead of queueing on each other. SQLite has one writer and needs nothing.
std::string SkipLocked(const Connection& db, std::string_view of_table = {});
// Appended to a SELECT whose rows the transaction decides on and then changes (an account's
// balances): on PostgreSQL the rows are locked until commit, serialising such transactions.
std::string ForUpdate(const Connection& db, std::string_view of_table = {});
// Serialises the transactions that call it with the same name until they end (PostgreSQL: a
// transaction-scoped advisory lock), for decisions no single row stands for (a file quota).
Status SerialiseOn(Connection& db, const std::string& name);

}  // namespace wanserve::store::sql
