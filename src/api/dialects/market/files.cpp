// kie's file upload API (API-DIALECTS-2 §5.1): a file sent as a multipart stream, a URL or
// base64 is kept three days under <uploadPath>/<fileName> of the caller's key (the same path
// and name overwrite) and answered with a link that works as an input in every dialect.
#include <fmt/format.h>

#include "api/dialects/market/market.h"
#include "api/upload_requests.h"
#include "api/uploaded_files.h"
#include "common/crypto.h"
#include "common/time_format.h"
#include "media/sniff.h"

namespace wanserve::api::dialects::market {
namespace {

using nlohmann::json;

// kie answers upload errors with HTTP status = code and {"success":false,"code","msg"}.
HttpResponse RenderFileError(const Error& e) {
  int status = 400;
  std::string msg = e.message;
  switch (e.code) {
    case ErrorCode::kUnauthorized:
      status = 401;
      msg = "Authentication failed: Invalid API Key";
      break;
    case ErrorCode::kPayloadTooLarge:
      msg = "File too large: " + e.message;
      break;
    case ErrorCode::kRateLimited:
      status = 429;
      break;
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal:
      status = 500;
      break;
    default:
      break;
  }
  auto r = HttpResponse::Json(status, json{{"success", false}, {"code", status}, {"msg", msg}}.dump());
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  return r;
}

// "<unix-ms>-<10 base36>.<ext>", kie's shape for unnamed uploads.
std::string GeneratedName(const ApiContext& ctx, std::string_view bytes) {
  auto type = media::SniffMedia(bytes);
  return fmt::format("{}-{}.{}", ctx.clock->NowMs(), RandomString(10, "0123456789abcdefghijklmnopqrstuvwxyz"),
                     type ? type->extension : "bin");
}

HttpResponse Upload(const ApiContext& ctx, const HttpRequest& req, const RequestContext& rc, UploadVia via,
                    const std::string& data_field) {
  FileApiPolicy policy;
  policy.api = "kie";
  policy.path_field = "uploadPath";
  policy.name_field = "fileName";
  policy.default_name = [&ctx](std::string_view bytes) { return GeneratedName(ctx, bytes); };
  policy.ttl_ms = kKieRetentionMs;
  auto stored = ReceiveFileApiUpload(ctx, req, rc.key_id, via, {{data_field}, {"uploadPath"}, {"fileName"}}, policy);
  if (!stored.ok()) return RenderFileError(stored.error());
  const store::UploadedFile& f = stored->file;
  json data = {{"success", true},
               {"fileName", f.name},
               {"filePath", f.path + "/" + f.name},
               {"downloadUrl", stored->url},
               {"fileSize", f.bytes},
               {"mimeType", f.mime_type},
               {"uploadedAt", FormatIso8601Utc(f.created_ms)},
               {"fileUrl", stored->url},
               {"expiresAt", FormatIso8601Utc(f.expires_ms)}};
  json out = {{"success", true}, {"code", 200}, {"msg", "File uploaded successfully"}, {"data", std::move(data)}};
  return HttpResponse::Json(200, out.dump());
}

HttpResponse MethodNotAllowed(const HttpRequest&, const RequestContext&) {
  return HttpResponse::Json(405, json{{"success", false}, {"code", 405}, {"msg", "Method not allowed"}}.dump());
}

}  // namespace

void RegisterFiles(Router& router, const ApiContext& ctx) {
  const struct {
    const char* path;
    UploadVia via;
    const char* field;
  } endpoints[] = {{"/api/file-stream-upload", UploadVia::kStream, "file"},
                   {"/api/file-url-upload", UploadVia::kUrl, "fileUrl"},
                   {"/api/file-base64-upload", UploadVia::kBase64, "base64Data"}};
  for (const auto& e : endpoints) {
    const UploadVia via = e.via;
    const std::string field = e.field;
    Route route{"POST", e.path, Access::kApiKey,
                [&ctx, via, field](const HttpRequest& req, const RequestContext& rc) {
                  return Upload(ctx, req, rc, via, field);
                },
                RenderFileError};
    if (via == UploadVia::kStream) route.form_body_limit = ctx.upload_body_limit;
    if (via == UploadVia::kBase64) route.body_limit = Base64UploadBodyLimit(ctx);
    router.Add(std::move(route));
    for (const char* method : {"GET", "PUT", "PATCH", "DELETE"}) {
      router.Add({method, e.path, Access::kPublic, MethodNotAllowed, RenderFileError});
    }
  }
}

}  // namespace wanserve::api::dialects::market
