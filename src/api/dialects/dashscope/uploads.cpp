// DashScope's temporary storage (API-DIALECTS-2 §5.3). Model Studio's SDKs upload a local file
// by asking for an OSS POST policy, posting the file to the policy's host as an OSS PostObject
// form, and naming it oss://<key> in the create body. Here the policy is signed with the
// server's secret and names the key and model it was issued for, so the form post needs no
// API key (as on OSS) and the file is owned and bound to that model.
#include <fmt/format.h>

#include "api/dialects/dashscope/dashscope.h"
#include "api/dialects/dashscope/internal.h"
#include "api/multipart.h"
#include "api/uploaded_files.h"
#include "common/crypto.h"
#include "common/time_format.h"

namespace wanserve::api::dialects::dashscope {
namespace {

constexpr int64_t kPolicyTtlS = 300;
constexpr const char* kOssScheme = "oss://";

Error Invalid(std::string message, std::string field = "") {
  return MakeError(ErrorCode::kInvalidInput, std::move(message), std::move(field));
}

// What a signed policy allows.
struct Policy {
  int64_t expires_ms = 0;
  std::string dir;
  std::string model;
  std::string key_id;
  int64_t max_bytes = 0;
};

std::string EncodePolicy(const Policy& p) {
  json conditions = json::array({json{{"bucket", "wanserve"}},
                                 json::array({"starts-with", "$key", p.dir}),
                                 json::array({"content-length-range", 0, p.max_bytes}),
                                 json{{"x-oss-object-acl", "private"}},
                                 json{{"x-oss-forbid-overwrite", "true"}},
                                 json{{"x-wanserve-model", p.model}},
                                 json{{"x-wanserve-key", p.key_id}}});
  const std::string text = json{{"expiration", FormatIso8601Utc(p.expires_ms)}, {"conditions", conditions}}.dump();
  return Base64Encode(std::vector<uint8_t>(text.begin(), text.end()));
}

// The policy a form carries, once its signature is ours; kForbidden otherwise.
Result<Policy> DecodePolicy(const ApiContext& ctx, const std::string& policy_b64, const std::string& signature) {
  if (!ConstantTimeEquals(ctx.signer.PolicySignature(policy_b64), signature)) {
    return MakeError(ErrorCode::kForbidden, "The request signature we calculated does not match the signature you provided.");
  }
  auto bytes = Base64Decode(policy_b64);
  const json doc = bytes ? json::parse(bytes->begin(), bytes->end(), nullptr, false) : json();
  if (!doc.is_object() || !doc.contains("conditions") || !doc["conditions"].is_array()) {
    return MakeError(ErrorCode::kForbidden, "Invalid Policy");
  }
  Policy p;
  p.expires_ms = ParseIso8601Utc(doc.value("expiration", ""));
  for (const auto& c : doc["conditions"]) {
    if (c.is_array() && c.size() == 3 && c[0] == "starts-with" && c[2].is_string()) p.dir = c[2];
    if (c.is_array() && c.size() == 3 && c[0] == "content-length-range" && c[2].is_number()) p.max_bytes = c[2];
    if (c.is_object() && c.contains("x-wanserve-model")) p.model = c["x-wanserve-model"];
    if (c.is_object() && c.contains("x-wanserve-key")) p.key_id = c["x-wanserve-key"];
  }
  if (p.dir.empty() || p.key_id.empty()) return MakeError(ErrorCode::kForbidden, "Invalid Policy");
  if (p.expires_ms <= ctx.clock->NowMs()) return MakeError(ErrorCode::kForbidden, "Invalid according to Policy: Policy expired.");
  return p;
}

// OSS answers a PostObject with an XML error document.
HttpResponse OssError(const Error& e) {
  int status = 400;
  std::string code = "InvalidArgument";
  switch (e.code) {
    case ErrorCode::kForbidden: status = 403; code = "AccessDenied"; break;
    case ErrorCode::kConflict: status = 409; code = "FileAlreadyExists"; break;
    case ErrorCode::kPayloadTooLarge: code = "EntityTooLarge"; break;
    case ErrorCode::kUnavailable:
    case ErrorCode::kInternal: status = 500; code = "InternalError"; break;
    default: break;
  }
  std::string message = e.message;
  for (const auto& [from, to] : {std::pair{'&', "&amp;"}, std::pair{'<', "&lt;"}, std::pair{'>', "&gt;"}}) {
    for (size_t at = message.find(from); at != std::string::npos; at = message.find(from, at + 1)) {
      message.replace(at, 1, to);
    }
  }
  return HttpResponse::Text(status,
                            fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{}</Code>\n"
                                        "  <Message>{}</Message>\n  <RequestId>{}</RequestId>\n</Error>\n",
                                        code, message, NewId()),
                            "application/xml");
}

HttpResponse GetPolicy(const ApiContext& ctx, const HttpRequest& req, const RequestContext& rc) {
  if (req.Query("action").value_or("") != "getPolicy") {
    return RenderError(Invalid("action: only getPolicy is supported", "action"));
  }
  const std::string model = req.Query("model").value_or("");
  if (model.empty()) return RenderError(Invalid("Required parameter \"model\" missing from request.", "model"));
  const int64_t now = ctx.clock->NowMs();
  Policy p;
  p.expires_ms = now + kPolicyTtlS * 1000;
  p.dir = fmt::format("dashscope-instant/{}/{}", HexEncode(RandomBytes(16)), FormatIso8601Utc(now).substr(0, 10));
  p.model = model;
  p.key_id = rc.key_id;
  p.max_bytes = ctx.file_api_max_bytes;
  const std::string policy = EncodePolicy(p);
  json data = {{"policy", policy},
               {"signature", ctx.signer.PolicySignature(policy)},
               {"upload_dir", p.dir},
               {"upload_host", ctx.public_base_url + "/api/v1/uploads/oss"},
               {"expire_in_seconds", kPolicyTtlS},
               {"max_file_size_mb", ctx.file_api_max_bytes >> 20},
               {"capacity_limit_mb", 999999999},
               {"oss_access_key_id", "wanserve"},
               {"x_oss_object_acl", "private"},
               {"x_oss_forbid_overwrite", "true"}};
  return HttpResponse::Json(200, json{{"request_id", req.request_id}, {"data", std::move(data)}}.dump());
}

HttpResponse PostObject(const ApiContext& ctx, const HttpRequest& req) {
  auto parts = ParseMultipart(req.Header("content-type").value_or(""), req.body);
  if (!parts.ok()) return OssError(parts.error());
  std::map<std::string, std::string> fields;
  const FormPart* file = nullptr;
  for (const auto& part : *parts) {
    if (part.name == "file") {
      file = &part;
      break;  // OSS ignores whatever follows the file
    }
    std::string name = part.name;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    fields[name] = std::string(part.data);
  }
  if (!file) return OssError(Invalid("The body of your POST request is not well-formed multipart/form-data: no file."));
  auto policy = DecodePolicy(ctx, fields["policy"], fields["signature"]);
  if (!policy.ok()) return OssError(policy.error());
  const std::string& key = fields["key"];
  if (!key.starts_with(policy->dir + "/")) {
    return OssError(MakeError(ErrorCode::kForbidden, "Invalid according to Policy: Policy Condition failed: "
                                                     "[\"starts-with\", \"$key\", \"" + policy->dir + "\"]"));
  }
  const std::string name = key.substr(policy->dir.size() + 1);
  if (Status ok = CheckFileName(name, "key"); !ok.ok()) return OssError(ok.error());
  if (static_cast<int64_t>(file->data.size()) > policy->max_bytes) {
    return OssError(MakeError(ErrorCode::kPayloadTooLarge, "Your proposed upload exceeds the maximum allowed size."));
  }
  UploadSpec spec;
  spec.api = "oss";
  spec.path = policy->dir;
  spec.name = name;
  spec.original_name = file->file_name.value_or(name);
  spec.model = policy->model;
  spec.ttl_ms = kOssRetentionMs;
  spec.overwrite = false;
  auto stored = StoreUpload(ctx, file->data, "file", policy->key_id, spec);
  if (!stored.ok()) {
    Error e = stored.error();
    if (e.code == ErrorCode::kConflict) e.message = "The object you specified already exists and can not be overwritten.";
    return OssError(e);
  }
  const std::string status = fields.count("success_action_status") ? fields["success_action_status"] : "";
  if (status == "204") return HttpResponse::Text(204, "");
  if (status == "201") {
    return HttpResponse::Text(201,
                              fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>\n"
                                          "  <Bucket>wanserve</Bucket>\n  <Key>{}</Key>\n</PostResponse>\n",
                                          key),
                              "application/xml");
  }
  return HttpResponse::Text(200, "");
}

// The stored file an oss:// URL names, as a signed link.
Result<std::string> ResolveOss(const ApiContext& ctx, const std::string& key_id, const std::string& model,
                               const std::string& url) {
  const std::string key = url.substr(std::string_view(kOssScheme).size());
  const size_t slash = key.rfind('/');
  if (!ctx.files || slash == std::string::npos) return Invalid(url + ": no such uploaded file");
  auto file = ctx.files->FindFileByName(key_id, "oss", key.substr(0, slash), key.substr(slash + 1), ctx.clock->NowMs());
  if (!file.ok()) return Invalid(url + ": no such uploaded file, or it expired (temporary files live 48 hours)");
  if (BaseModel(file->model) != BaseModel(model)) {
    return Invalid(fmt::format("{}: the file was uploaded for model {}, not {}", url, file->model, model));
  }
  return ctx.public_base_url + ctx.signer.SignedPath(file->blob_id, file->expires_ms / 1000);
}

Status ResolveIn(const ApiContext& ctx, bool oss_enabled, const std::string& key_id, const std::string& model,
                 json& node, const std::string& field, InlineUploads& stored_inline) {
  if (node.is_object()) {
    for (auto& [name, child] : node.items()) {
      RETURN_IF_ERROR(ResolveIn(ctx, oss_enabled, key_id, model, child, field.empty() ? name : field + "." + name,
                                stored_inline));
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      RETURN_IF_ERROR(
          ResolveIn(ctx, oss_enabled, key_id, model, node[i], fmt::format("{}[{}]", field, i), stored_inline));
    }
  } else if (node.is_string()) {
    const std::string& text = node.get_ref<const std::string&>();
    if (text.starts_with(kOssScheme)) {
      if (!oss_enabled) {
        return Invalid(field + ": an oss:// URL needs the header X-DashScope-OssResourceResolve: enable", field);
      }
      ASSIGN_OR_RETURN(std::string link, ResolveOss(ctx, key_id, model, text));
      node = link;
    } else if (text.starts_with("data:") && text.find(";base64,") != std::string::npos) {
      ASSIGN_OR_RETURN(std::string bytes, DecodeBase64Upload(text, field));
      UploadSpec spec;
      spec.api = "inline";
      spec.ttl_ms = kOssRetentionMs;
      ASSIGN_OR_RETURN(StoredUpload stored, StoreUpload(ctx, bytes, field, key_id, spec));
      stored_inline.Add(stored.file.id);
      node = stored.url;
    }
  }
  return Status::Ok();
}

}  // namespace

InlineUploads::~InlineUploads() {
  for (const auto& id : file_ids_) {
    auto gone = ctx_.files->DeleteFile(id, key_id_, ctx_.clock->NowMs());
    if (gone.ok()) (void)ctx_.uploads->Delete(gone->blob_id);
  }
}

Status ResolveUploadedUrls(const ApiContext& ctx, const HttpRequest& req, json& body, InlineUploads& stored,
                           const std::string& key_id) {
  if (!body.contains("input")) return Status::Ok();
  const bool oss_enabled = req.Header("x-dashscope-ossresourceresolve").value_or("") == "enable";
  const std::string model = body.contains("model") && body["model"].is_string() ? body["model"].get<std::string>() : "";
  return ResolveIn(ctx, oss_enabled, key_id, model, body["input"], "input", stored);
}

void RegisterUploads(Router& router, const ApiContext& ctx) {
  Route policy{"GET", "/api/v1/uploads", Access::kApiKey,
               [&ctx](const HttpRequest& req, const RequestContext& rc) { return GetPolicy(ctx, req, rc); }, RenderError};
  policy.echoes_request_id = true;
  router.Add(std::move(policy));
  Route post{"POST", "/api/v1/uploads/oss", Access::kPublic,
             [&ctx](const HttpRequest& req, const RequestContext&) { return PostObject(ctx, req); }, OssError};
  post.form_body_limit = ctx.upload_body_limit;
  router.Add(std::move(post));
}

}  // namespace wanserve::api::dialects::dashscope
