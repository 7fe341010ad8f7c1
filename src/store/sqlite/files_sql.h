#pragma once
// Uploaded files in SQL. Callers hold a connection (the writer, in a transaction, for changes).
#include <optional>
#include <string>
#include <vector>

#include "store/file_store.h"
#include "store/sqlite/db.h"

namespace wanserve::store::sqlite {

Result<std::optional<UploadedFile>> InsertFile(Db& db, const UploadedFile& file, int64_t now_ms, int64_t max_files,
                                               bool overwrite);
Result<UploadedFile> GetFile(Db& db, const std::string& id, int64_t now_ms);
Result<UploadedFile> FindFileByName(Db& db, const std::string& key_id, const std::string& api, const std::string& path, const std::string& name,
                                    int64_t now_ms);
Result<std::vector<UploadedFile>> ListFiles(Db& db, const std::string& key_id, const std::string& api, int64_t now_ms,
                                            int offset, int limit);
Result<int64_t> CountFiles(Db& db, const std::string& key_id, const std::string& api, int64_t now_ms);
Result<UploadedFile> DeleteFile(Db& db, const std::string& id, const std::string& key_id, int64_t now_ms);
Result<std::vector<UploadedFile>> TakeExpiredFiles(Db& db, int64_t now_ms, int limit);

}  // namespace wanserve::store::sqlite
