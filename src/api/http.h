#pragma once
// Transport-neutral request/response types: handlers and dialects see these, never Beast.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace wanserve::api {

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string path;     // decoded path without the query
  std::map<std::string, std::string> query;    // decoded query parameters
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string request_id;  // the exchange's id (X-Request-Id), set by the server

  std::optional<std::string> Header(const std::string& lower_name) const;
  std::optional<std::string> Query(const std::string& name) const;
};

// A body written as it is produced: server-sent events. The server asks for more on a handler
// thread every poll_ms (after the previous part went out, so a slow reader gets fewer, later
// parts, never a backlog) until a part says the stream is finished.
class BodyStream {
 public:
  struct Part {
    std::string bytes;  // may be empty: nothing new
    bool finished = false;
  };
  virtual ~BodyStream() = default;
  virtual Part Poll() = 0;
  // Written after heartbeat_ms without a part, so that proxies keep the connection open and a
  // client that left is noticed.
  virtual std::string Heartbeat() const = 0;
  // The server is shutting down: the last bytes of the stream. Whatever it reports on goes on.
  virtual std::string Farewell() const = 0;
  int poll_ms = 500;
  int heartbeat_ms = 15'000;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is this file's byte range [file_offset, file_offset + file_length).
  std::string file_path;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  // When set (and file_path is not), the body is file_length bytes read from this source in
  // order, on the handler pool (a blob in an object store).
  std::function<Result<size_t>(char* buffer, size_t capacity)> body_source;
  // When set, the body is this stream's output, sent with chunked transfer coding.
  std::shared_ptr<BodyStream> stream;

  static HttpResponse Json(int status, std::string body);
  static HttpResponse Text(int status, std::string body, std::string content_type = "text/plain");
};

// Sets the top-level "request_id" of a JSON object body that has one, unless the body already
// carries this id (handlers write HttpRequest::request_id; error renderers cannot); other bodies are left
// as they are.
void EchoRequestId(HttpResponse& response, std::string_view request_id);

// The plain HTTP status of an error, for APIs whose error shape carries no status of its own
// (the admin API, EvoLink's files API): 400 for bad input, 401/403/404/409/413, 402 for
// credits, 429, 503, and 500 for the rest.
int PlainHttpStatus(ErrorCode code);

// What the router knows about the caller once the route matched and auth passed.
struct RequestContext {
  std::map<std::string, std::string> params;  // path parameters, e.g. {"id": "gen_…"}
  std::string key_id;                          // authenticated API key, empty on public routes
  std::string account_id;                      // the key's account
  std::string idempotency_key;                 // the Idempotency-Key header of an API-key POST
  std::string request_hash;                    // RequestFingerprint, when there is such a key
};

using Handler = std::function<HttpResponse(const HttpRequest&, const RequestContext&)>;
// Renders an error in the shape of the route's dialect.
using ErrorRenderer = std::function<HttpResponse(const Error&)>;

}  // namespace wanserve::api
