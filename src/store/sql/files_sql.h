#pragma once
// Uploaded files in SQL. Callers hold a connection (the writer, in a transaction, for changes).
#include <optional>
#include <string>
#include <vector>

#include "store/file_store.h"
#include "store/sql/connection.h"

namespace wanserve::store::sql {

Result<std::optional<UploadedFile>> InsertFile(Connection& db, const UploadedFile& file, int64_t now_ms, int64_t max_files,
                                               bool overwrite);
Result<UploadedFile> GetFile(Connection& db, const std::string& id, int64_t now_ms);
Result<UploadedFile> FindFileByName(Connection& db, const std::string& key_id, const std::string& api, const std::string& path, const std::string& name,
                                    int64_t now_ms);
Result<std::vector<UploadedFile>> ListFiles(Connection& db, const std::string& key_id, const std::string& api, int64_t now_ms,
                                            int offset, int limit);
Result<int64_t> CountFiles(Connection& db, const std::string& key_id, const std::string& api, int64_t now_ms);
Result<UploadedFile> DeleteFile(Connection& db, const std::string& id, const std::string& key_id, int64_t now_ms);
Result<std::vector<UploadedFile>> TakeExpiredFiles(Connection& db, int64_t now_ms, int limit);

}  // namespace wanserve::store::sql
