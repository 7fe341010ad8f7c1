#include "api/http.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace wanserve::api {

std::optional<std::string> HttpRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> HttpRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

int PlainHttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
    case ErrorCode::kInvalidId:
    case ErrorCode::kUnsupportedModel: return 400;
    case ErrorCode::kUnauthorized: return 401;
    case ErrorCode::kInsufficientCredits: return 402;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kUnavailable: return 503;
    default: return 500;
  }
}

HttpResponse HttpResponse::Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

void EchoRequestId(HttpResponse& response, std::string_view request_id) {
  if (response.content_type != "application/json" || response.stream || !response.file_path.empty() ||
      response.body.empty() || response.body.front() != '{') {
    return;
  }
  // Handlers wrote it (as nlohmann::json dumps it); only error renderers' bodies need the parse.
  if (response.body.find(fmt::format(R"("request_id":"{}")", request_id)) != std::string::npos) return;
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("request_id")) return;
  body["request_id"] = request_id;
  response.body = body.dump();
}

HttpResponse HttpResponse::Text(int status, std::string body, std::string content_type) {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

}  // namespace wanserve::api
