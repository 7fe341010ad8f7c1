#pragma once
// The three ways the providers' files APIs take a file (a multipart stream, base64 in JSON, a
// URL to download), read into one shape. Each API names its fields its own way, and some
// spell one field two ways; the names are given per call.
#include <cstdint>
#include <string>
#include <vector>

#include "api/api_context.h"
#include "api/http.h"

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

}  // namespace wanserve::api
