#pragma once
// Files clients send to be used as inputs (the providers' upload APIs, POST /v1/files, a
// multipart create): checked for what they are, stored in the upload blob store, recorded with
// their owner, name and lifetime, and answered with a signed link that works in every
// dialect's URL fields until the file expires.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/api_context.h"
#include "store/file_store.h"

namespace wanserve::api {

// How long each upload API keeps a file (API-DIALECTS-2 §5).
inline constexpr int64_t kHourMs = 3600LL * 1000;
inline constexpr int64_t kKieRetentionMs = 72 * kHourMs;      // kie: 3 days
inline constexpr int64_t kEvoLinkRetentionMs = 72 * kHourMs;  // EvoLink: 72 h
inline constexpr int64_t kOssRetentionMs = 48 * kHourMs;      // DashScope oss://: 48 h
inline constexpr int64_t kFormRetentionMs = 24 * kHourMs;     // skills.video multipart parts
inline constexpr int64_t kLongestUploadRetentionMs = 72 * kHourMs;

// EvoLink's download links: <public url><prefix><file id>.
inline constexpr const char* kFileDownloadPrefix = "/api/v1/files/download/";
// The upload API whose files have download links.
inline constexpr const char* kDownloadableFilesApi = "evolink";

// The blob of a live file a download link names; kNotFound for other APIs' files.
Result<std::string> DownloadableFileBlob(store::FileStore& files, const std::string& file_id, int64_t now_ms);

// What one upload API allows and records.
struct UploadSpec {
  std::string api;            // store::UploadedFile::api
  std::string id;             // public id; "" = the blob id
  std::string path;           // upload path (kie, EvoLink), OSS key directory
  std::string name;           // "" = the blob id
  std::string original_name;
  std::string model;          // oss: the model of the upload policy
  int64_t ttl_ms = 24 * 3600 * 1000;
  int64_t max_bytes = 0;      // 0 = the per-kind input caps (UploadCapFor)
  int64_t max_files = 0;      // live files per key and api; 0 = no quota
  bool overwrite = true;      // a same-named file of the key is replaced
  bool allow_gif = false;
};

struct StoredUpload {
  store::UploadedFile file;
  std::string kind;       // "image", "video", "audio"
  std::string url;        // absolute signed link to the bytes
  int64_t expires_s = 0;  // unix seconds the file and its link expire
};

// Largest file of a kind: images 20 MB, audio 15 MB, video 100 MB (API-DIALECTS-2 §0).
int64_t UploadCapFor(std::string_view kind);

// Stores bytes when they are a JPEG, PNG, BMP, WebP (GIF where allowed), MP4, MOV, WAV or MP3
// file within the size cap, and records them for key_id. Errors name `field`: kInvalidInput
// (type), kPayloadTooLarge, kForbidden (quota), kConflict (name taken, overwrite refused).
Result<StoredUpload> StoreUpload(const ApiContext& ctx, std::string_view bytes, const std::string& field,
                                 const std::string& key_id, const UploadSpec& spec);

// Downloads a URL to upload it: through the outbound guard, 30 s, at most max_bytes.
Result<std::string> FetchForUpload(const ApiContext& ctx, const std::string& url, int64_t max_bytes,
                                   const std::string& field);

// Decodes base64, bare or as a data: URL ("data:image/png;base64,…"); whitespace is skipped.
Result<std::string> DecodeBase64Upload(std::string_view text, const std::string& field);

// Upload paths are relative folders: outer slashes are stripped, and empty, "..", "." and
// backslash-holding segments refused. `fallback` when text is empty.
Result<std::string> CleanUploadPath(std::string_view text, const std::string& fallback, const std::string& field);
// A file name is one segment of printable characters, at most 255 bytes.
Status CheckFileName(std::string_view name, const std::string& field);

}  // namespace wanserve::api
