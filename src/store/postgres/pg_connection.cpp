#include "store/postgres/pg_connection.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

namespace wanserve::store::postgres {
namespace {

// Type oids of the parameters we bind (pg_type.h).
constexpr unsigned kInt8Oid = 20;
constexpr unsigned kTextOid = 25;
constexpr unsigned kFloat8Oid = 701;

bool Ok(const PGresult* r) {
  const ExecStatusType s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

}  // namespace

Error PgError(PGconn* conn, const PGresult* result, const std::string& what, bool& lost) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  std::string message = result ? PQresultErrorMessage(result) : "";
  if (message.empty()) message = PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  ErrorCode code = ErrorCode::kInternal;
  const std::string cls = sqlstate.substr(0, 2);
  if (cls == "23") {
    code = ErrorCode::kConflict;
  } else if (sqlstate.empty() || cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58" ||
             sqlstate == "55P03" || PQstatus(conn) != CONNECTION_OK) {
    code = ErrorCode::kUnavailable;
  }
  if (sqlstate.empty() || cls == "08" || sqlstate.rfind("57P", 0) == 0 || PQstatus(conn) != CONNECTION_OK) lost = true;
  return MakeError(code, fmt::format("database: {}: {}{}", what, message,
                                     sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
}

PGconn* Connect(const std::string& conninfo) {
  // Later keywords override earlier ones, and the expanded URL comes last: it has the final say.
  const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"10", "wanserve", conninfo.c_str(), nullptr};
  return PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
}

std::string NumberedParameters(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (!quoted && c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out += '$';
    } else {
      out += c;
    }
  }
  return out;
}

PgStatement::~PgStatement() { PQclear(result_); }

void PgStatement::Set(int index, unsigned type, std::string value) {
  const size_t i = static_cast<size_t>(index - 1);
  if (values_.size() <= i) {
    values_.resize(i + 1);
    types_.resize(i + 1, 0);
    bound_.resize(i + 1, false);
  }
  // The server fixed the types at the first run; a later binding's text is read as that type.
  if (!prepared_) types_[i] = type;
  values_[i] = std::move(value);
  bound_[i] = true;
}

sql::Statement& PgStatement::BindInt(int index, int64_t v) {
  Set(index, kInt8Oid, std::to_string(v));
  return *this;
}

sql::Statement& PgStatement::BindText(int index, std::string_view v) {
  Set(index, kTextOid, std::string(v));
  return *this;
}

sql::Statement& PgStatement::BindDouble(int index, double v) {
  Set(index, kFloat8Oid, fmt::format("{:.17g}", v));
  return *this;
}

Status PgStatement::Execute() {
  Reset();
  if (!prepared_) {
    PGresult* r = PQprepare(conn_, name_.c_str(), sql_.c_str(), static_cast<int>(types_.size()),
                            reinterpret_cast<const Oid*>(types_.data()));
    const bool ok = Ok(r);
    Error e = ok ? Error{} : PgError(conn_, r, "prepare " + sql_, broken_);
    PQclear(r);
    if (!ok) return e;
    prepared_ = true;
  }
  std::vector<const char*> params(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) params[i] = bound_[i] ? values_[i].c_str() : nullptr;
  result_ = PQexecPrepared(conn_, name_.c_str(), static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0);
  if (!Ok(result_)) {
    Error e = PgError(conn_, result_, sql_, broken_);
    Reset();
    return e;
  }
  row_ = -1;
  return Status::Ok();
}

Result<bool> PgStatement::Step() {
  if (!result_) RETURN_IF_ERROR(Execute());
  if (++row_ < PQntuples(result_)) return true;
  Reset();
  return false;
}

Result<int> PgStatement::Run() {
  if (!result_) RETURN_IF_ERROR(Execute());
  const int changed = std::atoi(PQcmdTuples(result_));
  Reset();
  return changed;
}

const char* PgStatement::Value(int col) const { return PQgetvalue(result_, row_, col); }

int64_t PgStatement::Int(int col) const {
  const char* v = Value(col);
  // Booleans come back as t/f.
  if (v[0] == 't' && v[1] == '\0') return 1;
  int64_t out = 0;
  std::from_chars(v, v + std::char_traits<char>::length(v), out);
  return out;
}

double PgStatement::Double(int col) const { return std::strtod(Value(col), nullptr); }

std::string PgStatement::Text(int col) const {
  return std::string(Value(col), static_cast<size_t>(PQgetlength(result_, row_, col)));
}

bool PgStatement::IsNull(int col) const { return PQgetisnull(result_, row_, col) != 0; }

void PgStatement::Reset() {
  PQclear(result_);
  result_ = nullptr;
  row_ = -1;
}

void PgStatement::Clear() {
  Reset();
  std::fill(bound_.begin(), bound_.end(), false);
}

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& conninfo) {
  PGconn* conn = Connect(conninfo);
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = conn ? PQerrorMessage(conn) : "out of memory";
    while (!message.empty() && message.back() == '\n') message.pop_back();
    PQfinish(conn);
    return MakeError(ErrorCode::kUnavailable, "database: connect: " + message);
  }
  std::unique_ptr<PgConnection> db(new PgConnection(conn));
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them out of stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  // A node that stalls inside a transaction (paused, partitioned) must not hold an account's
  // row lock, and with it every submit of the account, for long; nor may a statement run away.
  RETURN_IF_ERROR(db->Exec("SET idle_in_transaction_session_timeout = '30s'"));
  RETURN_IF_ERROR(db->Exec("SET statement_timeout = '60s'"));
  return db;
}

PgConnection::~PgConnection() {
  cache_.clear();
  PQfinish(conn_);
}

Status PgConnection::Exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  const bool ok = Ok(r);
  Error e = ok ? Error{} : PgError(conn_, r, sql.substr(0, 80), broken_);
  PQclear(r);
  if (!ok) return e;
  return Status::Ok();
}

Result<sql::Statement*> PgConnection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Clear();
    return it->second.get();
  }
  auto stmt = std::make_unique<PgStatement>(conn_, broken_, fmt::format("s{}", cache_.size()), NumberedParameters(sql));
  auto [pos, _] = cache_.emplace(sql, std::move(stmt));
  return pos->second.get();
}

bool PgConnection::Reusable() const {
  return !broken_ && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

}  // namespace wanserve::store::postgres
