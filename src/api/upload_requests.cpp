#include "api/upload_requests.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "api/json_limits.h"
#include "api/multipart.h"
#include "api/uploaded_files.h"

namespace wanserve::api {
namespace {

using nlohmann::json;

Error Missing(const std::string& field) {
  return MakeError(ErrorCode::kInvalidInput, "Missing required parameter: " + field, field);
}

// The one value of a field spelled any of `names` ways; "" when none is given.
Result<std::string> OneOf(const std::map<std::string, std::string>& values, const std::vector<std::string>& names) {
  std::string found;
  std::string found_name;
  for (const auto& name : names) {
    auto it = values.find(name);
    if (it == values.end() || it->second.empty()) continue;
    if (!found_name.empty() && it->second != found) {
      return MakeError(ErrorCode::kInvalidInput,
                       fmt::format("{} and {} name one field; they were given different values", found_name, name),
                       name);
    }
    found = it->second;
    found_name = name;
  }
  return found;
}

Result<std::map<std::string, std::string>> JsonStrings(const HttpRequest& req, const UploadFieldNames& names) {
  RETURN_IF_ERROR(CheckJsonContentType(req.Header("content-type").value_or("")));
  json body = ParseBoundedJson(req.body);
  if (!body.is_object()) return MakeError(ErrorCode::kInvalidInput, "the body must be a JSON object");
  std::map<std::string, std::string> values;
  for (const auto* list : {&names.data, &names.path, &names.name}) {
    for (const auto& name : *list) {
      if (!body.contains(name) || body[name].is_null()) continue;
      if (!body[name].is_string()) return MakeError(ErrorCode::kInvalidInput, name + ": must be a string", name);
      values[name] = body[name].get<std::string>();
    }
  }
  return values;
}

std::string LastSegment(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  const size_t slash = path.rfind('/');
  const size_t scheme = path.find("://");
  if (slash == std::string::npos || (scheme != std::string::npos && slash < scheme + 3)) return "";
  return path.substr(slash + 1);
}

}  // namespace

Result<UploadRequest> ReadUploadRequest(const ApiContext& ctx, const HttpRequest& req, UploadVia via,
                                        const UploadFieldNames& names, int64_t max_bytes) {
  UploadRequest out;
  std::map<std::string, std::string> values;
  const std::string& data_field = names.data.front();
  if (via == UploadVia::kStream) {
    const std::string type = req.Header("content-type").value_or("");
    if (!IsMultipartFormData(type)) return Missing(data_field);
    auto parts = ParseMultipart(type, req.body);
    if (!parts.ok()) return parts.error();
    const FormPart* file = nullptr;
    for (const auto& part : *parts) {
      const bool is_data = std::find(names.data.begin(), names.data.end(), part.name) != names.data.end();
      if (is_data) {
        if (file) return MakeError(ErrorCode::kInvalidInput, data_field + ": one file per request", data_field);
        file = &part;
      } else if (!part.file_name) {  // text fields; other files are ignored
        values[part.name] = std::string(part.data);
      }
    }
    if (!file) return Missing(data_field);
    out.bytes = std::string(file->data);
    out.original_name = file->file_name.value_or("");
  } else {
    ASSIGN_OR_RETURN(values, JsonStrings(req, names));
    ASSIGN_OR_RETURN(std::string data, OneOf(values, names.data));
    if (data.empty()) return Missing(data_field);
    if (via == UploadVia::kBase64) {
      ASSIGN_OR_RETURN(out.bytes, DecodeBase64Upload(data, data_field));
    } else {
      if (!data.starts_with("http://") && !data.starts_with("https://")) {
        return MakeError(ErrorCode::kInvalidInput, data_field + ": must be an http or https URL", data_field);
      }
      ASSIGN_OR_RETURN(out.bytes, FetchForUpload(ctx, data, max_bytes, data_field));
      out.original_name = LastSegment(data);
    }
  }
  ASSIGN_OR_RETURN(out.path, OneOf(values, names.path));
  ASSIGN_OR_RETURN(out.name, OneOf(values, names.name));
  if (out.original_name.empty()) out.original_name = out.name;
  return out;
}

Result<StoredUpload> ReceiveFileApiUpload(const ApiContext& ctx, const HttpRequest& req, const std::string& key_id,
                                          UploadVia via, const UploadFieldNames& names, const FileApiPolicy& policy) {
  ASSIGN_OR_RETURN(UploadRequest read, ReadUploadRequest(ctx, req, via, names, ctx.file_api_max_bytes));
  UploadSpec spec;
  spec.api = policy.api;
  spec.id = policy.id;
  ASSIGN_OR_RETURN(spec.path, CleanUploadPath(read.path, "uploads", policy.path_field));
  spec.name = read.name.empty() ? policy.default_name(read.bytes) : read.name;
  RETURN_IF_ERROR(CheckFileName(spec.name, policy.name_field));
  spec.original_name = read.original_name.empty() ? spec.name : read.original_name;
  spec.ttl_ms = policy.ttl_ms;
  spec.max_bytes = ctx.file_api_max_bytes;
  spec.max_files = policy.max_files;
  spec.allow_gif = true;
  return StoreUpload(ctx, read.bytes, names.data.front(), key_id, spec);
}

size_t Base64UploadBodyLimit(const ApiContext& ctx) { return ctx.upload_body_limit / 3 * 4 + (1 << 20); }

}  // namespace wanserve::api
