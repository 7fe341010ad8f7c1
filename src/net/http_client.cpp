#include "net/http_client.h"

#include <curl/curl.h>

#include <mutex>

namespace wanserve::net {
namespace {

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}

void InitCurl() {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// "bytes 100-199/1000" -> 100; -1 when absent or malformed.
int64_t RangeStart(const std::string& content_range) {
  if (content_range.rfind("bytes ", 0) != 0) return -1;
  try {
    return std::stoll(content_range.substr(6));
  } catch (const std::exception&) {
    return -1;
  }
}

struct DownloadState {
  CURL* curl = nullptr;
  const DownloadCall* call = nullptr;
  std::map<std::string, std::string> headers;  // of the last response, redirects included
  DownloadResult result;
  bool stopped = false;
};

size_t OnDownloadBody(char* data, size_t size, size_t n, void* user) {
  auto* state = static_cast<DownloadState*>(user);
  long status = 0;
  curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &status);
  const std::string_view piece(data, size * n);
  if (status != 200 && status != 206) {
    if (state->result.error_body.size() < (64 << 10)) state->result.error_body.append(piece.substr(0, 64 << 10));
    return size * n;
  }
  const int64_t start = status == 206 ? RangeStart(state->headers["content-range"]) : 0;
  if (start < 0 || !state->call->on_data(start, piece)) {
    state->stopped = true;
    return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
  }
  return size * n;
}

}  // namespace

Result<DownloadResult> Download(const DownloadCall& call) {
  InitCurl();
  CURL* curl = curl_easy_init();
  if (!curl) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  DownloadState state{curl, &call, {}, {}, false};
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  // A plain Range header, not curl's resume: a server that ignores it answers 200 with the whole
  // file, which the caller then starts over from instead of failing.
  const std::string range = std::to_string(call.offset) + "-";
  if (call.offset > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, call.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, call.stall_seconds);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnDownloadBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &state.headers);
  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &state.result.status);
  curl_easy_cleanup(curl);
  if (state.stopped) return MakeError(ErrorCode::kCanceled, "download stopped");
  if (rc != CURLE_OK) {
    return MakeError(ErrorCode::kUnavailable, std::string("download broke off: ") + curl_easy_strerror(rc));
  }
  return state.result;
}

Result<HttpResult> Fetch(const HttpCall& call) {
  InitCurl();
  CURL* curl = curl_easy_init();
  if (!curl) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  HttpResult result;
  curl_slist* headers = nullptr;
  for (const auto& h : call.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, call.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  if (call.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!call.body.empty() || call.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, call.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return MakeError(ErrorCode::kUnavailable, std::string("HTTP request failed: ") + curl_easy_strerror(rc));
  }
  return result;
}

}  // namespace wanserve::net
