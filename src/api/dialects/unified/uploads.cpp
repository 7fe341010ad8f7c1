// POST /v1/files: a self-hosted server's users often have local files. The upload is stored,
// and the answer's signed URL works in any dialect's URL fields (read from the data folder,
// no network round trip) until the link expires.
#include <fmt/format.h>

#include "api/dialects/unified/internal.h"
#include "common/time_format.h"
#include "media/sniff.h"

namespace wanserve::api::dialects::unified {
namespace {

int64_t CapFor(const std::string& kind) {
  if (kind == "video") return 100 << 20;
  if (kind == "audio") return 15 << 20;
  return 20 << 20;
}

// The first file part of a multipart/form-data body; the raw body for any other content type.
Result<std::string_view> UploadedBytes(const HttpRequest& req) {
  const std::string type = req.Header("content-type").value_or("");
  if (!type.starts_with("multipart/form-data")) return std::string_view(req.body);
  auto at = type.find("boundary=");
  if (at == std::string::npos) return MakeError(ErrorCode::kInvalidInput, "multipart body without a boundary", "file");
  std::string boundary = type.substr(at + 9);
  if (auto semi = boundary.find(';'); semi != std::string::npos) boundary.resize(semi);
  if (boundary.size() >= 2 && boundary.front() == '"') boundary = boundary.substr(1, boundary.size() - 2);
  const std::string delimiter = "--" + boundary;
  std::string_view body(req.body);
  std::optional<std::string_view> first;
  size_t pos = body.find(delimiter);
  while (pos != std::string_view::npos) {
    size_t start = pos + delimiter.size();
    if (body.substr(start, 2) == "--") break;
    size_t headers_end = body.find("\r\n\r\n", start);
    if (headers_end == std::string_view::npos) break;
    std::string_view headers = body.substr(start, headers_end - start);
    size_t content = headers_end + 4;
    size_t next = body.find("\r\n" + delimiter, content);
    if (next == std::string_view::npos) break;
    std::string_view part = body.substr(content, next - content);
    if (headers.find("filename=") != std::string_view::npos || headers.find("name=\"file\"") != std::string_view::npos) {
      return part;
    }
    if (!first) first = part;
    pos = next + 2;
  }
  if (first) return *first;
  return MakeError(ErrorCode::kInvalidInput, "multipart body has no file part", "file");
}

}  // namespace

HttpResponse Upload(const ApiContext& ctx, const HttpRequest& req) {
  if (!ctx.uploads) return RenderError(MakeError(ErrorCode::kUnavailable, "uploads are not enabled"));
  auto bytes = UploadedBytes(req);
  if (!bytes.ok()) return RenderError(bytes.error());
  auto type = media::SniffMedia(*bytes);
  if (!type || type->extension == "gif") {
    return RenderError(MakeError(ErrorCode::kInvalidInput,
                                 "file: unsupported type; JPEG, PNG, BMP, WebP, MP4, MOV, WAV or MP3 is accepted",
                                 "file"));
  }
  const int64_t cap = CapFor(type->kind);
  if (static_cast<int64_t>(bytes->size()) > cap) {
    return RenderError(MakeError(ErrorCode::kPayloadTooLarge,
                                 fmt::format("file: a {} may be at most {} MB", type->kind, cap >> 20), "file"));
  }
  const std::string id = ctx.uploads->NewId(type->extension);
  auto written = ctx.uploads->Write(id, *bytes);
  if (!written.ok()) return RenderError(written.error());
  const int64_t now = ctx.clock->NowMs();
  const int64_t expires = (now + ctx.link_ttl_ms) / 1000;
  json out = {{"id", id},
              {"object", "file"},
              {"kind", type->kind},
              {"content_type", media::BlobStore::ContentTypeFor(id)},
              {"bytes", *written},
              {"url", ctx.public_base_url + ctx.signer.SignedPath(id, expires)},
              {"created_at", now / 1000},
              {"expires_at", expires}};
  return HttpResponse::Json(200, out.dump());
}

}  // namespace wanserve::api::dialects::unified
