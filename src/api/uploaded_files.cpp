#include "api/uploaded_files.h"

#include <fmt/format.h>

#include "common/crypto.h"
#include "media/sniff.h"

namespace wanserve::api {
namespace {

constexpr int64_t kUrlUploadTimeoutMs = 30'000;

std::string Megabytes(int64_t bytes) { return fmt::format("{} MB", bytes >> 20); }

}  // namespace

Result<std::string> DownloadableFileBlob(store::FileStore& files, const std::string& file_id, int64_t now_ms) {
  ASSIGN_OR_RETURN(store::UploadedFile file, files.GetFile(file_id, now_ms));
  if (file.api != kDownloadableFilesApi) return MakeError(ErrorCode::kNotFound, "no such file");
  return file.blob_id;
}

int64_t UploadCapFor(std::string_view kind) {
  if (kind == "video") return 100 << 20;
  if (kind == "audio") return 15 << 20;
  return 20 << 20;
}

Result<StoredUpload> StoreUpload(const ApiContext& ctx, std::string_view bytes, const std::string& field,
                                 const std::string& key_id, const UploadSpec& spec) {
  if (!ctx.uploads) return MakeError(ErrorCode::kUnavailable, "uploads are not enabled on this server", field);
  if (bytes.empty()) return MakeError(ErrorCode::kInvalidInput, field + ": the file is empty", field);
  auto type = media::SniffMedia(bytes);
  if (!type || (type->extension == "gif" && !spec.allow_gif)) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: unsupported file type; JPEG, PNG, BMP, WebP{}, MP4, MOV, WAV or MP3 is accepted",
                                 field, spec.allow_gif ? ", GIF" : ""),
                     field);
  }
  const int64_t cap = spec.max_bytes > 0 ? spec.max_bytes : UploadCapFor(type->kind);
  if (static_cast<int64_t>(bytes.size()) > cap) {
    return MakeError(ErrorCode::kPayloadTooLarge,
                     fmt::format("{}: file too large; a {} file may be at most {}", field, type->kind, Megabytes(cap)),
                     field);
  }
  StoredUpload out;
  out.kind = type->kind;
  store::UploadedFile& f = out.file;
  f.blob_id = ctx.uploads->NewId(type->extension);
  f.id = spec.id.empty() ? f.blob_id : spec.id;
  f.key_id = key_id;
  f.api = spec.api;
  f.path = spec.path;
  f.name = spec.name.empty() ? f.blob_id : spec.name;
  f.original_name = spec.original_name.empty() ? f.name : spec.original_name;
  f.mime_type = media::BlobStore::ContentTypeFor(f.blob_id);
  f.model = spec.model;
  f.created_ms = ctx.clock->NowMs();
  f.expires_ms = f.created_ms + spec.ttl_ms;
  auto written = ctx.uploads->Write(f.blob_id, bytes);
  if (!written.ok()) return written.error();
  f.bytes = *written;
  if (ctx.files) {
    auto replaced = ctx.files->InsertFile(f, f.created_ms, spec.max_files, spec.overwrite);
    if (!replaced.ok()) {
      (void)ctx.uploads->Delete(f.blob_id);
      Error e = replaced.error();
      e.field = field;
      return e;
    }
    if (*replaced) (void)ctx.uploads->Delete((*replaced)->blob_id);
  }
  out.expires_s = f.expires_ms / 1000;
  out.url = ctx.public_base_url + ctx.signer.SignedPath(f.blob_id, out.expires_s);
  return out;
}

Result<std::string> FetchForUpload(const ApiContext& ctx, const std::string& url, int64_t max_bytes,
                                   const std::string& field) {
  if (!ctx.outbound) return MakeError(ErrorCode::kUnavailable, "URL uploads are not enabled on this server", field);
  net::OutboundRequest request;
  request.url = url;
  request.timeout_ms = kUrlUploadTimeoutMs;
  request.max_body_bytes = max_bytes;
  auto response = ctx.outbound->Send(request);
  if (!response.ok()) {
    const Error& e = response.error();
    if (e.detail_code == "too_large") {
      return MakeError(ErrorCode::kPayloadTooLarge, fmt::format("{}: file too large; at most {}", field, Megabytes(max_bytes)),
                       field);
    }
    return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: the file could not be downloaded: {}", field, e.message),
                     field);
  }
  if (response->status < 200 || response->status >= 300) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: the file could not be downloaded: HTTP {}", field, response->status), field);
  }
  return std::move(response->body);
}

Result<std::string> DecodeBase64Upload(std::string_view text, const std::string& field) {
  if (text.starts_with("data:")) {
    const size_t comma = text.find(',');
    if (comma == std::string_view::npos || text.substr(0, comma).find(";base64") == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidInput, "Base64 decoding failed: Invalid Base64 format", field);
    }
    text.remove_prefix(comma + 1);
  }
  std::string clean;
  clean.reserve(text.size() + 2);
  for (char c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') clean.push_back(c);
  }
  while (clean.size() % 4 != 0 && clean.size() % 4 != 1) clean.push_back('=');
  auto bytes = Base64Decode(clean);
  if (!bytes || bytes->empty()) {
    return MakeError(ErrorCode::kInvalidInput, "Base64 decoding failed: Invalid Base64 format", field);
  }
  return std::string(bytes->begin(), bytes->end());
}

Result<std::string> CleanUploadPath(std::string_view text, const std::string& fallback, const std::string& field) {
  while (!text.empty() && text.front() == '/') text.remove_prefix(1);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  if (text.empty()) return fallback;
  if (text.size() > 512) return MakeError(ErrorCode::kInvalidInput, field + ": at most 512 characters", field);
  for (size_t at = 0; at <= text.size();) {
    size_t end = text.find('/', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(at, end - at);
    if (segment.empty() || segment == "." || segment == ".." || segment.find('\\') != std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidInput, field + ": a relative folder without empty, '.' or '..' parts", field);
    }
    for (unsigned char c : segment) {
      if (c < 0x20 || c == 0x7f) return MakeError(ErrorCode::kInvalidInput, field + ": control characters", field);
    }
    at = end + 1;
  }
  return std::string(text);
}

Status CheckFileName(std::string_view name, const std::string& field) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." ||
      name.find_first_of("/\\") != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidInput, field + ": one file name of 1-255 bytes without slashes", field);
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return MakeError(ErrorCode::kInvalidInput, field + ": control characters", field);
  }
  return Status::Ok();
}

}  // namespace wanserve::api
