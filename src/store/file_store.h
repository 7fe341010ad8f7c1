#pragma once
// Files clients uploaded to be used as inputs, through any of the providers' upload APIs or a
// multipart create. The bytes live in the upload blob store; a row here says whose file it
// is, under which name, and until when it lives, so that every node answers list, quota and
// delete alike and the sweeper knows what to remove.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::store {

struct UploadedFile {
  std::string id;             // public id, e.g. "file_k3j…" (EvoLink) or the blob id
  std::string key_id;         // owner
  std::string api;            // "evolink", "kie", "oss", "files" (POST /v1/files), "form" (multipart create)
  std::string path;           // upload path / OSS key directory; "" when the API has none
  std::string name;           // file name within path
  std::string original_name;  // as the client named it
  std::string blob_id;
  std::string mime_type;
  int64_t bytes = 0;
  std::string model;          // oss: the model its upload policy was issued for
  int64_t created_ms = 0;
  int64_t expires_ms = 0;

  bool operator==(const UploadedFile&) const = default;
};

class FileStore {
 public:
  virtual ~FileStore() = default;
  // Records an upload. A live file of the same key, api, path and name is replaced (kie
  // overwrites) and returned, so its blob can be deleted; with overwrite false it is kConflict
  // instead (OSS's x-oss-forbid-overwrite). When max_files > 0 and the key has that many live
  // files of the api already, kForbidden and nothing is recorded.
  virtual Result<std::optional<UploadedFile>> InsertFile(const UploadedFile& file, int64_t now_ms,
                                                         int64_t max_files, bool overwrite) = 0;
  // kNotFound when unknown or expired at now_ms.
  virtual Result<UploadedFile> GetFile(const std::string& id, int64_t now_ms) = 0;
  // Names are per key: two keys may each have "uploads/a.png".
  virtual Result<UploadedFile> FindFileByName(const std::string& key_id, const std::string& api, const std::string& path,
                                              const std::string& name, int64_t now_ms) = 0;
  // A key's live files of one api, newest first.
  virtual Result<std::vector<UploadedFile>> ListFiles(const std::string& key_id, const std::string& api,
                                                      int64_t now_ms, int offset, int limit) = 0;
  virtual Result<int64_t> CountFiles(const std::string& key_id, const std::string& api, int64_t now_ms) = 0;
  // Removes a key's live file and returns it; kNotFound when it has none of that id.
  virtual Result<UploadedFile> DeleteFile(const std::string& id, const std::string& key_id, int64_t now_ms) = 0;
  // Removes up to limit files expired at now_ms and returns them, for their blobs to go.
  virtual Result<std::vector<UploadedFile>> TakeExpiredFiles(int64_t now_ms, int limit) = 0;
};

}  // namespace wanserve::store
