#include "store/sql/connection.h"

namespace wanserve::store::sql {

Transaction::~Transaction() {
  if (open_) (void)db_.Exec("ROLLBACK");
}

Status Transaction::Begin(const char* begin) {
  if (!begin) begin = db_.dialect() == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN";
  RETURN_IF_ERROR(db_.Exec(begin));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  RETURN_IF_ERROR(db_.Exec("COMMIT"));
  open_ = false;
  return Status::Ok();
}

Status ExpectChanged(const Result<int>& changed, const char* what) {
  if (!changed.ok()) return changed.error();
  if (changed.value() == 0) return MakeError(ErrorCode::kConflict, what);
  return Status::Ok();
}

std::string SkipLocked(const Connection& db, std::string_view of_table) {
  if (db.dialect() != Dialect::kPostgres) return "";
  if (of_table.empty()) return " FOR UPDATE SKIP LOCKED";
  return " FOR UPDATE OF " + std::string(of_table) + " SKIP LOCKED";
}

std::string ForUpdate(const Connection& db, std::string_view of_table) {
  if (db.dialect() != Dialect::kPostgres) return "";
  if (of_table.empty()) return " FOR UPDATE";
  return " FOR UPDATE OF " + std::string(of_table);
}

Status SerialiseOn(Connection& db, const std::string& name) {
  if (db.dialect() != Dialect::kPostgres) return Status::Ok();
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("SELECT pg_advisory_xact_lock(hashtextextended(?1, 0))"));
  s->Bind(1, name);
  return s->Exec();
}

}  // namespace wanserve::store::sql
