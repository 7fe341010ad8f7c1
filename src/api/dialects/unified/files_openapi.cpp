// The unified document's files and credits: POST /v1/files (wanserve's own upload), the key's
// credits, and EvoLink's files API (API-DIALECTS-2 §5.2) as files.cpp serves them.
#include "api/dialects/unified/internal.h"
#include "api/openapi.h"
#include "api/uploaded_files.h"

namespace wanserve::api::dialects::unified {
namespace {

const json kFile = {
    {"type", "object"},
    {"required", {"id", "object", "kind", "content_type", "bytes", "url", "created_at", "expires_at"}},
    {"properties",
     {{"id", {{"type", "string"}}},
      {"object", {{"const", "file"}}},
      {"kind", {{"type", "string"}, {"enum", {"image", "video", "audio"}}}},
      {"content_type", {{"type", "string"}}},
      {"bytes", {{"type", "integer"}}},
      {"url", {{"type", "string"}, {"format", "uri"}, {"description", "a signed link; an input in any dialect"}}},
      {"created_at", {{"type", "integer"}}},
      {"expires_at", {{"type", "integer"}, {"description", "Unix seconds; 24 h after the upload"}}}}}};

const json kCredits = {
    {"type", "object"},
    {"properties",
     {{"success", {{"type", "boolean"}}},
      {"message", {{"type", "string"}}},
      {"data",
       {{"type", "object"},
        {"properties",
         {{"user",
           {{"type", "object"},
            {"properties", {{"remaining_credits", {{"type", "integer"}}}, {"used_credits", {{"type", "integer"}}}}}}},
          {"token",
           {{"type", "object"},
            {"description", "this key: unlimited_credits when it has no cap of its own"},
            {"properties",
             {{"remaining_credits", {{"type", "integer"}}},
              {"unlimited_credits", {{"type", "boolean"}}},
              {"used_credits", {{"type", "integer"}}}}}}}}}}}}}};

// EvoLink's envelope: HTTP status = code; msg says why on a refusal.
json Envelope(json data) {
  json out = {{"type", "object"},
              {"required", {"success", "code", "msg"}},
              {"properties", {{"success", {{"type", "boolean"}}}, {"code", {{"type", "integer"}}}, {"msg", {{"type", "string"}}}}}};
  if (!data.is_null()) out["properties"]["data"] = std::move(data);
  return out;
}

json FileAnswers(json data) {
  return {{"200", JsonAnswer("done", Envelope(std::move(data)))},
          {"400", JsonAnswer("a field breaks a rule; msg names it", Envelope(nullptr))},
          {"401", JsonAnswer("no API key, or a wrong or revoked one", Envelope(nullptr))},
          {"403", JsonAnswer("file quota exceeded", Envelope(nullptr))},
          {"404", JsonAnswer("no such file for this key", Envelope(nullptr))},
          {"413", JsonAnswer("larger than the largest file", Envelope(nullptr))}};
}

const json kUploaded = {
    {"type", "object"},
    {"properties",
     {{"file_id", {{"type", "string"}, {"pattern", "^file_[a-z0-9]{12}$"}}},
      {"file_name", {{"type", "string"}}},
      {"original_name", {{"type", "string"}}},
      {"file_size", {{"type", "integer"}}},
      {"mime_type", {{"type", "string"}}},
      {"upload_path", {{"type", "string"}}},
      {"file_url", {{"type", "string"}, {"format", "uri"}, {"description", "a signed link; an input in any dialect"}}},
      {"download_url", {{"type", "string"}, {"format", "uri"}, {"description", "public until the file expires"}}},
      {"upload_time", {{"type", "string"}}},
      {"expires_at", {{"type", "string"}, {"description", "72 h after the upload"}}}}}};

// The fields every EvoLink upload takes beside its data.
json UploadFields(const std::string& data_name, json data_schema) {
  return {{data_name, std::move(data_schema)},
          {"upload_path", StringField("a folder of this key's files (also uploadPath)")},
          {"file_name", StringField("the stored name; default file_<id>.<ext> (also fileName)")}};
}

json PageParameter(const std::string& name, int fallback, int max) {
  return {{"name", name}, {"in", "query"}, {"required", false},
          {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", max}, {"default", fallback}}}};
}

}  // namespace

void AddFilePaths(json& paths) {
  paths["/v1/files"] = {
      {"post",
       {{"summary", "Upload a local image, video or audio file; its url works in any dialect's URL fields for 24 h"},
        {"requestBody",
         {{"required", true},
          {"content",
           {{"multipart/form-data",
             {{"schema", {{"type", "object"}, {"properties", {{"file", BinaryPart("the file (else the first file part)")}}}}}}},
            {"application/octet-stream",
             {{"schema", BinaryPart("the file as the whole body, under its own type (image/png, video/mp4, …)")}}}}}}},
        {"responses",
         {{"200", JsonAnswer("stored", kFile)},
          {"400", JsonAnswer("not an image, video or audio file", Ref("Error"))},
          {"401", JsonAnswer("no API key, or a wrong or revoked one", Ref("Error"))},
          {"413", JsonAnswer("larger than the largest upload", Ref("Error"))}}}}}};
  paths["/v1/credits"] = {
      {"get", {{"summary", "Credits of this key's account and of the key"},
               {"responses", {{"200", JsonAnswer("OK", kCredits)},
                              {"401", JsonAnswer("no API key, or a wrong or revoked one", Ref("Error"))}}}}}};
  paths["/api/v1/files/upload/stream"] = {
      {"post", {{"summary", "EvoLink: upload a file as a multipart stream"},
                {"requestBody", FormBody(UploadFields("file", BinaryPart("the file")), {"file"})},
                {"responses", FileAnswers(kUploaded)}}}};
  paths["/api/v1/files/upload/base64"] = {
      {"post", {{"summary", "EvoLink: upload a file sent as base64 (a data: URL too)"},
                {"requestBody",
                 JsonBody({{"type", "object"}, {"properties", UploadFields("base64_data", StringField("also base64Data"))}},
                          json{{"base64_data", "data:image/png;base64,iVBORw0KGgo…"}, {"file_name", "cat.png"}})},
                {"responses", FileAnswers(kUploaded)}}}};
  paths["/api/v1/files/upload/url"] = {
      {"post", {{"summary", "EvoLink: upload a file this server fetches from a URL"},
                {"requestBody",
                 JsonBody({{"type", "object"},
                           {"properties", UploadFields("file_url", {{"type", "string"}, {"format", "uri"},
                                                                    {"description", "also fileUrl"}})}},
                          json{{"file_url", examples::kPicture}})},
                {"responses", FileAnswers(kUploaded)}}}};
  paths["/api/v1/files/quota"] = {
      {"get", {{"summary", "EvoLink: how many live files this key has and may have"},
               {"responses",
                FileAnswers({{"type", "object"},
                             {"properties",
                              {{"used_files", {{"type", "integer"}}},
                               {"max_files", {{"type", "integer"}}},
                               {"remain_files", {{"type", "integer"}}},
                               {"user_group", {{"type", "string"}}},
                               {"is_custom", {{"type", "boolean"}}},
                               {"quota_reason", {{"type", "string"}}}}}})}}}};
  paths["/api/v1/files/list"] = {
      {"get", {{"summary", "EvoLink: this key's live files, newest first"},
               {"parameters", {PageParameter("page", 1, 1'000'000), PageParameter("pageSize", 20, 100)}},
               {"responses",
                FileAnswers({{"type", "object"},
                             {"properties",
                              {{"total", {{"type", "integer"}}},
                               {"files", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}})}}}};
  paths["/api/v1/files/{file_id}"] = {
      {"delete", {{"summary", "EvoLink: delete one of this key's files"},
                  {"parameters", {PathParameter("file_id")}},
                  {"responses", FileAnswers(nullptr)}}}};
  paths[std::string(kFileDownloadPrefix) + "{file_id}"] = {
      {"get", {{"summary", "EvoLink: a file's bytes (no key: the link is the secret; Range and HEAD honoured)"},
               {"security", json::array()},
               {"parameters", {PathParameter("file_id")}},
               {"responses",
                {{"200", {{"description", "the file"}}},
                 {"404", JsonAnswer("no such file, or it expired", Envelope(nullptr))}}}}}};
}

}  // namespace wanserve::api::dialects::unified
