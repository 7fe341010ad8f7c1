#pragma once
// The three ways the providers' files APIs take a file (a multipart stream, base64 in JSON, a
// URL to download), read into one shape. Each API names its fields its own way, and some
// spell one field two ways; the names are given per call.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_context.h"
#include "api/http.h"
#include "api/uploaded_files.h"

namespace wanserve::api {

enum class UploadVia { kStream, kBase64, kUrl };

struct UploadFieldNames {
  std::vector<std::string> data;  // the file part, the base64 text or the URL; first is canonical
  std::vector<std::string> path;  // upload folder; may be empty
  std::vector<std::string> name;  // file name; may be empty
};

struct UploadRequest {
  std::string bytes;
  std::string path;           // as given, not yet cleaned; "" when absent
  std::string name;           // as given; "" when absent
  std::string original_name;  // the part's file name or the URL's last segment; "" when unknown
};

// kInvalidInput "Missing required parameter: <field>" when the file is absent; a field given
// under two of its names with different values is refused. URL downloads go through the
// outbound guard and stop at max_bytes.
Result<UploadRequest> ReadUploadRequest(const ApiContext& ctx, const HttpRequest& req, UploadVia via,
                                        const UploadFieldNames& names, int64_t max_bytes);

// How a providers' files API (kie, EvoLink) names and keeps what it receives.
struct FileApiPolicy {
  std::string api;         // store::UploadedFile::api
  std::string id;          // public id; "" = the blob id
  std::string path_field;  // named in upload path errors
  std::string name_field;  // named in file name errors
  std::function<std::string(std::string_view bytes)> default_name;  // for uploads sent without a name
  int64_t ttl_ms = 0;
  int64_t max_files = 0;  // live files per key; 0 = no quota
};

// Reads one upload of a files API, cleans its path ("uploads" when absent), names it and
// stores it for key_id within ctx.file_api_max_bytes; GIF is accepted.
Result<StoredUpload> ReceiveFileApiUpload(const ApiContext& ctx, const HttpRequest& req, const std::string& key_id,
                                          UploadVia via, const UploadFieldNames& names, const FileApiPolicy& policy);

// The body limit of a base64 upload: the largest file grown by a third, plus room for the JSON.
size_t Base64UploadBodyLimit(const ApiContext& ctx);

}  // namespace wanserve::api
