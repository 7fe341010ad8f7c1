// The DashScope document's temporary storage (uploads.cpp): an upload policy, the OSS-style
// form post it signs, and the header that lets a create read the oss:// URL it gives.
#include "api/dialects/dashscope/internal.h"
#include "api/openapi.h"

namespace wanserve::api::dialects::dashscope {
namespace {

json QueryParameter(const std::string& name, json schema, const std::string& description) {
  return {{"name", name}, {"in", "query"}, {"required", true}, {"schema", std::move(schema)}, {"description", description}};
}

const json kPolicy = {
    {"type", "object"},
    {"properties",
     {{"request_id", {{"type", "string"}}},
      {"data",
       {{"type", "object"},
        {"properties",
         {{"policy", StringField("base64 of the policy document; send back as `policy`")},
          {"signature", StringField("send back as `Signature`")},
          {"upload_dir", StringField("the key sent must start with upload_dir + \"/\"")},
          {"upload_host", {{"type", "string"}, {"format", "uri"}, {"description", "where to POST the form"}}},
          {"expire_in_seconds", {{"type", "integer"}, {"const", 300}}},
          {"max_file_size_mb", {{"type", "integer"}}},
          {"capacity_limit_mb", {{"type", "integer"}}},
          {"oss_access_key_id", StringField("send back as `OSSAccessKeyId`")},
          {"x_oss_object_acl", StringField("send back as `x-oss-object-acl`")},
          {"x_oss_forbid_overwrite", StringField("send back as `x-oss-forbid-overwrite`")}}}}}}}};

json XmlAnswer(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/xml", {{"schema", {{"type", "string"}, {"description", "<Error><Code>…"}}}}}}}};
}

}  // namespace

void AddUploadPaths(json& paths) {
  paths["/api/v1/uploads"] = {
      {"get",
       {{"summary", "An upload policy for a model's temporary storage (valid 300 s); files live 48 h and are read "
                    "as oss://<upload_dir>/<name> by creates that send X-DashScope-OssResourceResolve: enable"},
        {"parameters",
         {QueryParameter("action", {{"type", "string"}, {"enum", {"getPolicy"}}}, "the only action"),
          QueryParameter("model", {{"type", "string"}}, "the model that will read the file")}},
        {"responses",
         {{"200", JsonAnswer("the policy", kPolicy)},
          {"400", JsonAnswer("no model, or another action", Ref("Error"))},
          {"401", JsonAnswer("no API key, or a wrong or revoked one", Ref("Error"))}}}}}};
  paths["/api/v1/uploads/oss"] = {
      {"post",
       {{"summary", "The upload_host of a policy: an OSS PostObject form (fields before the file; no API key, "
                    "the policy's signature is the credential)"},
        {"security", json::array()},
        {"requestBody",
         FormBody({{"OSSAccessKeyId", StringField("the policy's oss_access_key_id")},
                   {"Signature", StringField("the policy's signature")},
                   {"policy", StringField("the policy, as given")},
                   {"key", StringField("<upload_dir>/<file name>")},
                   {"x-oss-object-acl", StringField("private")},
                   {"x-oss-forbid-overwrite", StringField("true: a key is stored once")},
                   {"success_action_status", {{"type", "string"}, {"enum", {"200", "201", "204"}}}},
                   {"file", BinaryPart("the file, the last part")}},
                  {"policy", "Signature", "key", "file"})},
        {"responses",
         {{"200", {{"description", "stored (success_action_status 200 or absent)"}}},
          {"201", {{"description", "stored; a PostResponse XML naming the key"}}},
          {"204", {{"description", "stored"}}},
          {"400", XmlAnswer("a malformed form, or larger than the policy allows (EntityTooLarge)")},
          {"403", XmlAnswer("a policy expired, forged, or a key outside upload_dir (AccessDenied)")},
          {"409", XmlAnswer("that key exists and can not be overwritten (FileAlreadyExists)")}}}}}};
}

}  // namespace wanserve::api::dialects::dashscope
