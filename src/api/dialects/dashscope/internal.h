#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "api/api_context.h"
#include "api/http.h"
#include "core/task.h"

namespace wanserve::api::dialects::dashscope {

using nlohmann::json;

// The create bodies, with DashScope's defaults applied.
Result<core::GenerationRequest> ParseVideo(const json& body);
Result<core::GenerationRequest> ParseImage(const json& body);

// A dated video model id ("wan2.7-t2v-2026-04-25") is its base model; others are themselves.
std::string BaseModel(const std::string& model);

// The files a create stored from its base64 data: URLs: removed again when the create fails,
// so a refused request leaves nothing behind.
class InlineUploads {
 public:
  InlineUploads(const ApiContext& ctx, std::string key_id) : ctx_(ctx), key_id_(std::move(key_id)) {}
  InlineUploads(const InlineUploads&) = delete;
  InlineUploads& operator=(const InlineUploads&) = delete;
  ~InlineUploads();

  void Add(std::string file_id) { file_ids_.push_back(std::move(file_id)); }
  // The task was accepted: its inputs stay for their lifetime.
  void Keep() { file_ids_.clear(); }

 private:
  const ApiContext& ctx_;
  std::string key_id_;
  std::vector<std::string> file_ids_;
};

// Replaces, anywhere in a create body, oss://<key> URLs of files the key uploaded through the
// temporary storage (only with the header X-DashScope-OssResourceResolve: enable, and only for
// the model the upload policy named) and base64 data: URLs with links to the stored bytes,
// recorded in `stored`.
Status ResolveUploadedUrls(const ApiContext& ctx, const HttpRequest& req, json& body, InlineUploads& stored,
                           const std::string& key_id);

HttpResponse RenderError(const Error& error);
// "YYYY-MM-DD HH:MM:SS.mmm" in UTC+8.
std::string BeijingTime(int64_t unix_ms);
json RenderTask(const core::Task& task, const ApiContext& ctx, const std::string& request_id);
// A task id this dialect does not know: HTTP 200 with task_status UNKNOWN, as DashScope answers.
json RenderUnknown(const std::string& id, const std::string& request_id);
// A UUID: task ids and request ids.
std::string NewId();
// The dialect's OpenAPI document; kInternal when an example of it no longer parses.
Result<json> OpenApiDocument(const std::string& server_url);
// The document's upload policy and form post (uploads_openapi.cpp).
void AddUploadPaths(json& paths);

}  // namespace wanserve::api::dialects::dashscope
