// POST /v1/files: a self-hosted server's users often have local files. The upload is stored,
// and the answer's signed URL works in any dialect's URL fields (read from the data folder,
// no network round trip) until the link expires.
#include "api/dialects/unified/internal.h"
#include "api/multipart.h"
#include "api/uploaded_files.h"

namespace wanserve::api::dialects::unified {
namespace {

// The part named "file" (else the first file part) of a multipart/form-data body; the raw body
// for any other content type.
Result<std::string_view> UploadedBytes(const HttpRequest& req) {
  const std::string type = req.Header("content-type").value_or("");
  if (!IsMultipartFormData(type)) return std::string_view(req.body);
  auto parts = ParseMultipart(type, req.body);
  if (!parts.ok()) return parts.error();
  const FormPart* chosen = nullptr;
  for (const auto& part : *parts) {
    if (part.name == "file") return part.data;
    if (!chosen && part.file_name) chosen = &part;
  }
  if (chosen) return chosen->data;
  return MakeError(ErrorCode::kInvalidInput, "file: the multipart body has no file part", "file");
}

}  // namespace

HttpResponse Upload(const ApiContext& ctx, const HttpRequest& req, const std::string& key_id) {
  auto bytes = UploadedBytes(req);
  if (!bytes.ok()) return RenderError(bytes.error());
  UploadSpec spec;
  spec.api = "files";
  spec.ttl_ms = ctx.link_ttl_ms;
  auto stored = StoreUpload(ctx, *bytes, "file", key_id, spec);
  if (!stored.ok()) return RenderError(stored.error());
  json out = {{"id", stored->file.id},
              {"object", "file"},
              {"kind", stored->kind},
              {"content_type", stored->file.mime_type},
              {"bytes", stored->file.bytes},
              {"url", stored->url},
              {"created_at", stored->file.created_ms / 1000},
              {"expires_at", stored->expires_s}};
  return HttpResponse::Json(200, out.dump());
}

}  // namespace wanserve::api::dialects::unified
