#pragma once
// Blocking HTTP client on libcurl for the command-line tools and tests. (Requests the server
// itself makes to client-chosen addresses go through the guarded client instead.)
#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::net {

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  long timeout_ms = 30'000;
};

// kUnavailable when the server cannot be reached; any HTTP status is a success here.
Result<HttpResult> Fetch(const HttpCall& call);

}  // namespace wanserve::net
