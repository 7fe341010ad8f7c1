#include "api/uploaded_files.h"

#include <fmt/format.h>

#include "media/sniff.h"

namespace wanserve::api {

int64_t UploadCapFor(std::string_view kind) {
  if (kind == "video") return 100 << 20;
  if (kind == "audio") return 15 << 20;
  return 20 << 20;
}

Result<StoredUpload> StoreUpload(const ApiContext& ctx, std::string_view bytes, const std::string& field,
                                 int64_t ttl_ms, bool allow_gif) {
  if (!ctx.uploads) return MakeError(ErrorCode::kUnavailable, "uploads are not enabled on this server", field);
  auto type = media::SniffMedia(bytes);
  if (!type || (type->extension == "gif" && !allow_gif)) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: unsupported file type; JPEG, PNG, BMP, WebP{}, MP4, MOV, WAV or MP3 is accepted",
                                 field, allow_gif ? ", GIF" : ""),
                     field);
  }
  const int64_t cap = UploadCapFor(type->kind);
  if (static_cast<int64_t>(bytes.size()) > cap) {
    return MakeError(ErrorCode::kPayloadTooLarge,
                     fmt::format("{}: a {} file may be at most {} MB", field, type->kind, cap >> 20), field);
  }
  StoredUpload out;
  out.id = ctx.uploads->NewId(type->extension);
  auto written = ctx.uploads->Write(out.id, bytes);
  if (!written.ok()) return written.error();
  out.kind = type->kind;
  out.content_type = media::BlobStore::ContentTypeFor(out.id);
  out.bytes = *written;
  out.expires_s = (ctx.clock->NowMs() + ttl_ms) / 1000;
  out.url = ctx.public_base_url + ctx.signer.SignedPath(out.id, out.expires_s);
  return out;
}

}  // namespace wanserve::api
