// EvoLink's files API (API-DIALECTS-2 §5.2): files live 72 h, at most file_api_max_files per
// key; each has an id file_<12 [a-z0-9]> and a download link that also works as an input in
// every dialect, resolved from the data folder rather than fetched.
#include <fmt/format.h>

#include <charconv>

#include "api/dialects/unified/unified.h"
#include "api/system_routes.h"
#include "api/upload_requests.h"
#include "api/uploaded_files.h"
#include "common/crypto.h"
#include "common/time_format.h"
#include "media/sniff.h"

namespace wanserve::api::dialects::unified {
namespace {

using nlohmann::json;

// HTTP status = code, {"success":false,"code","msg"}: EvoLink's client reads msg and code.
HttpResponse RenderFileError(const Error& e) {
  const int status = PlainHttpStatus(e.code);
  auto r = HttpResponse::Json(status, json{{"success", false}, {"code", status}, {"msg", e.message}}.dump());
  if (e.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_s));
  return r;
}

HttpResponse Ok(json data, const std::string& msg = "ok") {
  json out = {{"success", true}, {"code", 200}, {"msg", msg}};
  if (!data.is_null()) out["data"] = std::move(data);
  return HttpResponse::Json(200, out.dump());
}

std::string DownloadUrl(const ApiContext& ctx, const std::string& file_id) {
  return ctx.public_base_url + kFileDownloadPrefix + file_id;
}

HttpResponse Upload(const ApiContext& ctx, const HttpRequest& req, const RequestContext& rc, UploadVia via,
                    std::vector<std::string> data_fields) {
  FileApiPolicy policy;
  policy.api = kDownloadableFilesApi;
  policy.id = "file_" + RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
  policy.path_field = "upload_path";
  policy.name_field = "file_name";
  policy.ttl_ms = kEvoLinkRetentionMs;
  policy.max_files = ctx.file_api_max_files;
  policy.default_name = [id = policy.id](std::string_view bytes) {
    auto type = media::SniffMedia(bytes);
    return fmt::format("{}.{}", id, type ? type->extension : "bin");
  };
  auto stored = ReceiveFileApiUpload(
      ctx, req, rc.key_id, via,
      {std::move(data_fields), {"upload_path", "uploadPath"}, {"file_name", "fileName"}}, policy);
  if (!stored.ok()) return RenderFileError(stored.error());
  const store::UploadedFile& f = stored->file;
  return Ok({{"file_id", f.id},
             {"file_name", f.name},
             {"original_name", f.original_name},
             {"file_size", f.bytes},
             {"mime_type", f.mime_type},
             {"upload_path", f.path},
             {"file_url", stored->url},
             {"download_url", DownloadUrl(ctx, f.id)},
             {"upload_time", FormatIso8601Offset(f.created_ms)},
             {"expires_at", FormatIso8601Offset(f.expires_ms)}},
            "File uploaded successfully");
}

// A positive integer query parameter; fallback when absent.
Result<int> PageParam(const HttpRequest& req, const std::string& name, int fallback, int max) {
  auto text = req.Query(name);
  if (!text || text->empty()) return fallback;
  int value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > max) {
    return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: an integer from 1 to {}", name, max), name);
  }
  return value;
}

}  // namespace

void RegisterFiles(Router& router, const ApiContext& ctx) {
  Route stream{"POST", "/api/v1/files/upload/stream", Access::kApiKey,
               [&ctx](const HttpRequest& req, const RequestContext& rc) {
                 return Upload(ctx, req, rc, UploadVia::kStream, {"file"});
               },
               RenderFileError};
  stream.form_body_limit = ctx.upload_body_limit;
  router.Add(std::move(stream));
  Route base64{"POST", "/api/v1/files/upload/base64", Access::kApiKey,
               [&ctx](const HttpRequest& req, const RequestContext& rc) {
                 return Upload(ctx, req, rc, UploadVia::kBase64, {"base64_data", "base64Data"});
               },
               RenderFileError};
  base64.body_limit = Base64UploadBodyLimit(ctx);
  router.Add(std::move(base64));
  router.Add({"POST", "/api/v1/files/upload/url", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) {
                return Upload(ctx, req, rc, UploadVia::kUrl, {"file_url", "fileUrl"});
              },
              RenderFileError});
  router.Add({"GET", "/api/v1/files/quota", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                if (!ctx.files) return RenderFileError(MakeError(ErrorCode::kUnavailable, "files are not enabled"));
                auto used = ctx.files->CountFiles(rc.key_id, kDownloadableFilesApi, ctx.clock->NowMs());
                if (!used.ok()) return RenderFileError(used.error());
                return Ok({{"user_group", "default"},
                           {"used_files", *used},
                           {"max_files", ctx.file_api_max_files},
                           {"remain_files", std::max<int64_t>(0, ctx.file_api_max_files - *used)},
                           {"is_custom", false},
                           {"quota_reason", ""}});
              },
              RenderFileError});
  router.Add({"GET", "/api/v1/files/list", Access::kApiKey,
              [&ctx](const HttpRequest& req, const RequestContext& rc) {
                if (!ctx.files) return RenderFileError(MakeError(ErrorCode::kUnavailable, "files are not enabled"));
                auto page = PageParam(req, "page", 1, 1'000'000);
                if (!page.ok()) return RenderFileError(page.error());
                auto size = PageParam(req, "pageSize", 20, 100);
                if (!size.ok()) return RenderFileError(size.error());
                const int64_t now = ctx.clock->NowMs();
                auto total = ctx.files->CountFiles(rc.key_id, kDownloadableFilesApi, now);
                if (!total.ok()) return RenderFileError(total.error());
                auto listed = ctx.files->ListFiles(rc.key_id, kDownloadableFilesApi, now, (*page - 1) * *size, *size);
                if (!listed.ok()) return RenderFileError(listed.error());
                json files = json::array();
                for (const auto& f : *listed) {
                  files.push_back({{"file_id", f.id},
                                   {"file_name", f.name},
                                   {"file_size", f.bytes},
                                   {"upload_time", FormatIso8601Offset(f.created_ms)}});
                }
                return Ok({{"total", *total}, {"files", std::move(files)}});
              },
              RenderFileError});
  router.Add({"DELETE", "/api/v1/files/{file_id}", Access::kApiKey,
              [&ctx](const HttpRequest&, const RequestContext& rc) {
                if (!ctx.files) return RenderFileError(MakeError(ErrorCode::kUnavailable, "files are not enabled"));
                auto gone = ctx.files->DeleteFile(rc.params.at("file_id"), rc.key_id, ctx.clock->NowMs());
                if (!gone.ok()) {
                  if (gone.error().code == ErrorCode::kNotFound) {
                    return RenderFileError(MakeError(ErrorCode::kNotFound, "file not found"));
                  }
                  return RenderFileError(gone.error());
                }
                if (ctx.uploads) (void)ctx.uploads->Delete(gone->blob_id);
                return Ok(nullptr, "File deleted successfully");
              },
              RenderFileError});
  // The download link is public, as EvoLink's is: whoever holds it may fetch the file until
  // it expires; the id's 62 bits of randomness are the secret.
  Route download{"GET", std::string(kFileDownloadPrefix) + "{file_id}", Access::kPublic,
                 [&ctx](const HttpRequest& req, const RequestContext& rc) {
                   auto not_found = [] {
                     return RenderFileError(MakeError(ErrorCode::kNotFound, "file not found or expired"));
                   };
                   if (!ctx.files || !ctx.uploads) return not_found();
                   auto file = ctx.files->GetFile(rc.params.at("file_id"), ctx.clock->NowMs());
                   if (!file.ok() || file->api != kDownloadableFilesApi) return not_found();
                   auto served = ServeBlob(req, *ctx.uploads, file->blob_id, file->mime_type, ctx.delivery);
                   if (!served.ok()) {
                     return served.error().code == ErrorCode::kNotFound ? not_found() : RenderFileError(served.error());
                   }
                   return *served;
                 },
                 RenderFileError};
  download.blocking = true;
  router.Add(std::move(download));
}

}  // namespace wanserve::api::dialects::unified
