#pragma once
// Blocking HTTP client on libcurl for the command-line tools and tests. (Requests the server
// itself makes to client-chosen addresses go through the guarded client instead.)
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
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
  std::vector<std::string> headers = {};  // "Name: value"
  std::string body = {};
  long timeout_ms = 30'000;
};

// kUnavailable when the server cannot be reached; any HTTP status is a success here.
Result<HttpResult> Fetch(const HttpCall& call);

// A large file streamed as it arrives (model weights), following redirects.
struct DownloadCall {
  std::string url;
  int64_t offset = 0;                 // ask for the bytes from here on (an HTTP range)
  long connect_timeout_ms = 30'000;
  long stall_seconds = 60;            // give up when under 1 KiB/s for this long
  // Each piece of a 200 or 206 body with where that body starts in the file (`offset` for a 206
  // that honoured the range, 0 when the server sent the whole file); false stops the transfer.
  std::function<bool(int64_t start, std::string_view piece)> on_data;
};

struct DownloadResult {
  long status = 0;
  std::string error_body;  // the body of any status but 200 and 206, cut to 64 KiB
};

// kUnavailable when the transfer broke off (what arrived was delivered), kCanceled when on_data
// stopped it; any HTTP status is otherwise a success here.
Result<DownloadResult> Download(const DownloadCall& call);

}  // namespace wanserve::net
