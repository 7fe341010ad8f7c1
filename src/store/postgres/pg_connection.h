#pragma once
// One libpq connection: the PostgreSQL side of store/sql/connection.h. Statements are written
// with SQLite's numbered parameters (?1) and rewritten to PostgreSQL's ($1); each is prepared
// on the server on its first run, with the parameter types its bindings had, and cached.
// Values travel as text, so a column of any integer type reads back through Int.
#include <libpq-fe.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "store/sql/connection.h"

namespace wanserve::store::postgres {

class PgStatement final : public sql::Statement {
 public:
  // broken is the connection's flag, set when an error shows the connection lost.
  PgStatement(PGconn* conn, bool& broken, std::string name, std::string sql)
      : conn_(conn), broken_(broken), name_(std::move(name)), sql_(std::move(sql)) {}
  ~PgStatement() override;
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  Statement& BindInt(int index, int64_t v) override;
  Statement& BindText(int index, std::string_view v) override;
  Statement& BindDouble(int index, double v) override;
  Result<bool> Step() override;
  Result<int> Run() override;
  int64_t Int(int col) const override;
  double Double(int col) const override;
  std::string Text(int col) const override;
  bool IsNull(int col) const override;
  void Reset() override;
  // Reset and forget the bindings, for the next user of the cached statement.
  void Clear();

 private:
  void Set(int index, unsigned type, std::string value);
  Status Execute();
  const char* Value(int col) const;

  PGconn* conn_;
  bool& broken_;
  std::string name_;
  std::string sql_;
  bool prepared_ = false;
  std::vector<unsigned> types_;
  std::vector<std::string> values_;
  std::vector<bool> bound_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

class PgConnection final : public sql::Connection {
 public:
  // conninfo: a postgresql:// URL or key=value pairs, as libpq takes them.
  static Result<std::unique_ptr<PgConnection>> Open(const std::string& conninfo);
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  Status Exec(const std::string& sql) override;
  Result<sql::Statement*> Prepare(const std::string& sql) override;
  // Connected and outside any transaction: fit to go back to a pool.
  bool Reusable() const;
  // For what the Connection interface does not cover (notifications).
  PGconn* raw() { return conn_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
  bool broken_ = false;
  std::unordered_map<std::string, std::unique_ptr<PgStatement>> cache_;
};

// Connects (blocking) to a postgresql:// URL or key=value string, with our defaults beneath
// what the URL says: a 10 s connect timeout (libpq waits for the OS, minutes, otherwise) and
// "wanserve" as the application name operators see in pg_stat_activity.
PGconn* Connect(const std::string& conninfo);

// SQL with ?N parameters as PostgreSQL writes them ($N); text in quotes is left alone.
std::string NumberedParameters(const std::string& sql);

// Maps a failed result to our taxonomy by its SQLSTATE: integrity violations are kConflict;
// a deadlock, a serialization failure, a shutdown or exhausted resources kUnavailable
// (nothing committed: retry); anything else kInternal. An error without SQLSTATE came from
// libpq, not the server: the connection is lost (kUnavailable) and lost is set.
Error PgError(PGconn* conn, const PGresult* result, const std::string& what, bool& lost);

}  // namespace wanserve::store::postgres
