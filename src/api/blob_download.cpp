#include "api/blob_download.h"

#include <fmt/format.h>

#include <charconv>
#include <memory>

namespace wanserve::api {
namespace {

HttpResponse JsonError(int status, const std::string& code, const std::string& message) {
  return HttpResponse::Json(status, fmt::format(R"({{"error":"{}","message":"{}"}})", code, message));
}

bool ParseInt(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

}  // namespace

std::optional<std::pair<int64_t, int64_t>> ParseByteRange(const std::string& header, int64_t size) {
  constexpr std::string_view kPrefix = "bytes=";
  if (header.rfind(kPrefix, 0) != 0) return std::nullopt;
  std::string_view spec(header);
  spec.remove_prefix(kPrefix.size());
  if (spec.find(',') != std::string_view::npos) return std::nullopt;  // multi-range: whole file
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  int64_t a = 0, b = 0;
  const auto first = spec.substr(0, dash);
  const auto last = spec.substr(dash + 1);
  const std::pair<int64_t, int64_t> unsatisfiable{-1, -1};
  if (first.empty()) {
    if (!ParseInt(last, b) || b == 0) return unsatisfiable;
    return std::make_pair(std::max<int64_t>(0, size - b), size - 1);
  }
  if (!ParseInt(first, a)) return std::nullopt;
  if (a >= size) return unsatisfiable;
  if (last.empty()) return std::make_pair(a, size - 1);
  if (!ParseInt(last, b) || b < a) return std::nullopt;
  return std::make_pair(a, std::min(b, size - 1));
}

Result<HttpResponse> ServeBlob(const HttpRequest& req, const media::BlobStore& store, const std::string& key,
                               std::string content_type, const BlobDelivery& delivery) {
  if (delivery.redirect) {
    if (auto url = store.PresignedUrl(key, delivery.presigned_ttl_s)) {
      HttpResponse res = HttpResponse::Text(302, "");
      res.headers.emplace_back("Location", *url);
      res.headers.emplace_back("Cache-Control", "no-store");  // the presigned URL expires soon
      return res;
    }
  }
  ASSIGN_OR_RETURN(const media::BlobEntry blob, store.Stat(key));
  const int64_t size = blob.bytes;
  HttpResponse res;
  res.content_type = std::move(content_type);
  res.headers.emplace_back("Accept-Ranges", "bytes");
  res.headers.emplace_back("Cache-Control", "private, max-age=3600");
  uint64_t offset = 0;
  uint64_t length = static_cast<uint64_t>(size);
  if (auto range_header = req.Header("range")) {
    auto range = ParseByteRange(*range_header, size);
    if (range && range->first < 0) {
      auto r = JsonError(416, "range_not_satisfiable", "requested range is outside the file");
      r.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
      return r;
    }
    if (range) {
      res.status = 206;
      offset = static_cast<uint64_t>(range->first);
      length = static_cast<uint64_t>(range->second - range->first + 1);
      res.headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", range->first, range->second, size));
    }
  }
  res.file_offset = offset;
  res.file_length = length;
  if (auto local = store.LocalFile(key)) {
    res.file_path = local->string();
  } else if (req.method != "HEAD") {
    ASSIGN_OR_RETURN(std::shared_ptr<media::BlobReader> reader, store.Open(key, offset, length));
    res.body_source = [reader](char* buffer, size_t capacity) { return reader->Read(buffer, capacity); };
  } else {
    res.body_source = [](char*, size_t) { return Result<size_t>(size_t{0}); };  // a HEAD sends no body
  }
  return res;
}

}  // namespace wanserve::api
