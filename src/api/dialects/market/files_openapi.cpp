// The market document's file uploads (files.cpp, API-DIALECTS-2 §5.1): a file sent as a
// stream, a URL or base64, kept three days under uploadPath/fileName of the caller's key.
#include "api/dialects/market/internal.h"
#include "api/openapi.h"

namespace wanserve::api::dialects::market {
namespace {

// kie's upload answers: HTTP status = code, {"success","code","msg","data"}.
json Envelope(bool with_data) {
  json out = {{"type", "object"},
              {"required", {"success", "code", "msg"}},
              {"properties", {{"success", {{"type", "boolean"}}}, {"code", {{"type", "integer"}}}, {"msg", {{"type", "string"}}}}}};
  if (with_data) {
    out["properties"]["data"] = {
        {"type", "object"},
        {"properties",
         {{"fileName", {{"type", "string"}}},
          {"filePath", {{"type", "string"}}},
          {"downloadUrl", {{"type", "string"}, {"format", "uri"}, {"description", "an input in any dialect"}}},
          {"fileUrl", {{"type", "string"}, {"format", "uri"}}},
          {"fileSize", {{"type", "integer"}}},
          {"mimeType", {{"type", "string"}}},
          {"uploadedAt", {{"type", "string"}}},
          {"expiresAt", {{"type", "string"}, {"description", "3 days after the upload"}}}}}};
  }
  return out;
}

json Answers() {
  return {{"200", JsonAnswer("stored", Envelope(true))},
          {"400", JsonAnswer("a field breaks a rule; msg says which", Envelope(false))},
          {"401", JsonAnswer("Authentication failed: Invalid API Key", Envelope(false))},
          {"405", JsonAnswer("Method not allowed", Envelope(false))},
          {"500", JsonAnswer("the file could not be stored", Envelope(false))}};
}

json Fields(const std::string& data_name, json data_schema) {
  return {{data_name, std::move(data_schema)},
          {"uploadPath", StringField("a folder of this key's files; default \"uploads\"; no \"..\"")},
          {"fileName", StringField("default <unix-ms>-<10 base36>.<ext>; the same uploadPath and fileName overwrite")}};
}

json Upload(const std::string& summary, json body) {
  return {{"post", {{"summary", summary}, {"requestBody", std::move(body)}, {"responses", Answers()}}}};
}

}  // namespace

void AddFilePaths(json& paths) {
  paths["/api/file-stream-upload"] =
      Upload("Upload a file as a multipart stream", FormBody(Fields("file", BinaryPart("the file")), {"file"}));
  paths["/api/file-url-upload"] = Upload(
      "Upload a file this server fetches from a URL",
      JsonBody({{"type", "object"}, {"required", {"fileUrl"}},
                {"properties", Fields("fileUrl", {{"type", "string"}, {"format", "uri"}})}},
               json{{"fileUrl", examples::kPicture}, {"uploadPath", "images"}}));
  paths["/api/file-base64-upload"] = Upload(
      "Upload a file sent as base64 (a data: URL too)",
      JsonBody({{"type", "object"}, {"required", {"base64Data"}},
                {"properties", Fields("base64Data", StringField("the bytes in base64, or a data: URL"))}},
               json{{"base64Data", "data:image/png;base64,iVBORw0KGgo…"}, {"fileName", "cat.png"}}));
}

}  // namespace wanserve::api::dialects::market
