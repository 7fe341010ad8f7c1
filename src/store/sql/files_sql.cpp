#include "store/sql/files_sql.h"

namespace wanserve::store::sql {
namespace {

constexpr const char* kColumns =
    "id, key_id, api, path, name, original_name, blob_id, mime_type, bytes, model, created_ms, expires_ms";

UploadedFile ReadFile(const Statement& s) {
  UploadedFile f;
  f.id = s.Text(0);
  f.key_id = s.Text(1);
  f.api = s.Text(2);
  f.path = s.Text(3);
  f.name = s.Text(4);
  f.original_name = s.Text(5);
  f.blob_id = s.Text(6);
  f.mime_type = s.Text(7);
  f.bytes = s.Int(8);
  f.model = s.Text(9);
  f.created_ms = s.Int(10);
  f.expires_ms = s.Int(11);
  return f;
}

Result<std::vector<UploadedFile>> Select(Connection& db, const std::string& where, auto bind) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string("SELECT ") + kColumns + " FROM uploaded_files WHERE " + where));
  bind(*s);
  return s->Collect<UploadedFile>(ReadFile);
}

Result<UploadedFile> First(Result<std::vector<UploadedFile>> rows, const std::string& not_found) {
  if (!rows.ok()) return rows.error();
  if (rows->empty()) return MakeError(ErrorCode::kNotFound, not_found);
  return std::move(rows->front());
}

Status Remove(Connection& db, const std::string& id) {
  ASSIGN_OR_RETURN(Statement * s, db.Prepare("DELETE FROM uploaded_files WHERE id = ?1"));
  s->Bind(1, id);
  return s->Exec();
}

}  // namespace

Result<std::optional<UploadedFile>> InsertFile(Connection& db, const UploadedFile& file, int64_t now_ms, int64_t max_files,
                                               bool overwrite) {
  // Nodes uploading for one key at once must not both pass the quota or both take a name.
  RETURN_IF_ERROR(SerialiseOn(db, "files:" + file.key_id + ":" + file.api));
  // An expired file of the same name is gone already as far as clients can tell.
  auto same = FindFileByName(db, file.key_id, file.api, file.path, file.name, now_ms);
  std::optional<UploadedFile> replaced;
  if (same.ok()) {
    if (!overwrite) return MakeError(ErrorCode::kConflict, "a file of that name exists and may not be overwritten");
    replaced = *same;
  } else if (same.error().code != ErrorCode::kNotFound) {
    return same.error();
  }
  if (max_files > 0 && !replaced) {
    ASSIGN_OR_RETURN(int64_t live, CountFiles(db, file.key_id, file.api, now_ms));
    if (live >= max_files) return MakeError(ErrorCode::kForbidden, "file quota exceeded");
  }
  if (replaced) RETURN_IF_ERROR(Remove(db, replaced->id));
  ASSIGN_OR_RETURN(Statement * s, db.Prepare(std::string("INSERT INTO uploaded_files (") + kColumns +
                                             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"));
  s->Bind(1, file.id).Bind(2, file.key_id).Bind(3, file.api).Bind(4, file.path).Bind(5, file.name);
  s->Bind(6, file.original_name).Bind(7, file.blob_id).Bind(8, file.mime_type).Bind(9, file.bytes);
  s->Bind(10, file.model).Bind(11, file.created_ms).Bind(12, file.expires_ms);
  RETURN_IF_ERROR(s->Exec());
  return replaced;
}

Result<UploadedFile> GetFile(Connection& db, const std::string& id, int64_t now_ms) {
  return First(Select(db, "id = ?1 AND expires_ms > ?2", [&](Statement& s) { s.Bind(1, id).Bind(2, now_ms); }),
               "no such file");
}

Result<UploadedFile> FindFileByName(Connection& db, const std::string& key_id, const std::string& api, const std::string& path,
                                    const std::string& name, int64_t now_ms) {
  return First(Select(db, "key_id = ?1 AND api = ?2 AND path = ?3 AND name = ?4 AND expires_ms > ?5",
                      [&](Statement& s) { s.Bind(1, key_id).Bind(2, api).Bind(3, path).Bind(4, name).Bind(5, now_ms); }),
               "no such file");
}

Result<std::vector<UploadedFile>> ListFiles(Connection& db, const std::string& key_id, const std::string& api, int64_t now_ms,
                                            int offset, int limit) {
  return Select(db, "key_id = ?1 AND api = ?2 AND expires_ms > ?3 ORDER BY created_ms DESC, id DESC LIMIT ?4 OFFSET ?5",
                [&](Statement& s) { s.Bind(1, key_id).Bind(2, api).Bind(3, now_ms).Bind(4, limit).Bind(5, offset); });
}

Result<int64_t> CountFiles(Connection& db, const std::string& key_id, const std::string& api, int64_t now_ms) {
  ASSIGN_OR_RETURN(Statement * s,
                   db.Prepare("SELECT COUNT(*) FROM uploaded_files WHERE key_id = ?1 AND api = ?2 AND expires_ms > ?3"));
  s->Bind(1, key_id).Bind(2, api).Bind(3, now_ms);
  return s->One<int64_t>([](const Statement& row) { return row.Int(0); }, "no count");
}

Result<UploadedFile> DeleteFile(Connection& db, const std::string& id, const std::string& key_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(UploadedFile file, GetFile(db, id, now_ms));
  if (file.key_id != key_id) return MakeError(ErrorCode::kNotFound, "no such file");
  RETURN_IF_ERROR(Remove(db, id));
  return file;
}

Result<std::vector<UploadedFile>> TakeExpiredFiles(Connection& db, int64_t now_ms, int limit) {
  ASSIGN_OR_RETURN(auto expired, Select(db, "expires_ms <= ?1 ORDER BY expires_ms LIMIT ?2" + SkipLocked(db),
                                        [&](Statement& s) { s.Bind(1, now_ms).Bind(2, limit); }));
  for (const auto& f : expired) RETURN_IF_ERROR(Remove(db, f.id));
  return expired;
}

}  // namespace wanserve::store::sql
