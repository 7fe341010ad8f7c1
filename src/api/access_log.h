#pragma once
// The access log: one JSON line per answered request, tied to the X-Request-Id the answer
// carries, so an operator can follow a client's report to the server's record of it.
#include <string>
#include <string_view>

namespace wanserve::api {

// The id of an exchange: the client's X-Request-Id when it is a plain token (1-128 of
// [A-Za-z0-9._:-], as proxies and tracing headers write them), else a new random UUID (the
// form DashScope's `request_id` has, where the dialect echoes it).
std::string RequestIdFor(std::string_view client_value);

struct AccessRecord {
  std::string_view request_id;
  std::string_view method;
  std::string_view path;    // without the query, which may hold a link's signature
  std::string_view route;   // the route's pattern; empty when none matched
  int status = 0;
  double seconds = 0;       // from the head read to the last byte written
  std::string_view key_id;  // the API key or admin token that called; empty on public routes
  std::string_view remote;  // the peer's address
};

// Writes the record at info level (spdlog), as one JSON object.
void LogAccess(const AccessRecord& record);

}  // namespace wanserve::api
