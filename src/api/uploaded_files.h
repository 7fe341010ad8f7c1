#pragma once
// Files clients send to be used as inputs (an upload endpoint, a multipart part): checked for
// what they are, stored in the upload store, and answered with a signed link that works in
// every dialect's URL fields.
#include <cstdint>
#include <string>
#include <string_view>

#include "api/api_context.h"

namespace wanserve::api {

struct StoredUpload {
  std::string id;  // blob id in the upload store
  std::string kind;  // "image", "video", "audio"
  std::string content_type;
  int64_t bytes = 0;
  std::string url;        // absolute signed link
  int64_t expires_s = 0;  // unix seconds the link stops working
};

// Largest file of a kind: images 20 MB, audio 15 MB, video 100 MB (API-DIALECTS-2 §0).
int64_t UploadCapFor(std::string_view kind);

// Stores bytes when they are a JPEG, PNG, BMP, WebP (GIF where allow_gif), MP4, MOV, WAV or MP3
// file within its kind's cap; the error names `field`. The link lives ttl_ms.
Result<StoredUpload> StoreUpload(const ApiContext& ctx, std::string_view bytes, const std::string& field,
                                 int64_t ttl_ms, bool allow_gif = false);

}  // namespace wanserve::api
