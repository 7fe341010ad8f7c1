#include "objectstore/s3_blob_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <future>
#include <thread>

#include "common/crypto.h"
#include "objectstore/s3_xml.h"

namespace wanserve::objectstore {
namespace {

int64_t NowUnixS() { return static_cast<int64_t>(std::time(nullptr)); }

// "Mon, 30 Nov 2026 13:00:00 GMT" to Unix ms; 0 when it is not one.
int64_t ParseHttpDateMs(const std::string& text) {
  std::tm tm{};
  if (!strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

std::string Header(const net::OutboundResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

// Reads bytes [offset, offset + length) of a local file.
Result<std::string> ReadRange(const std::filesystem::path& file, int64_t offset, int64_t length) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  if (!in.read(bytes.data(), length)) return MakeError(ErrorCode::kUnavailable, "cannot read " + file.string());
  return bytes;
}

// A download in ranged GETs of at most chunk bytes, the next one fetched while the current one
// is read: memory stays two chunks whatever the size, and the store's latency overlaps the
// client's transfer.
class S3Reader final : public media::BlobReader {
 public:
  S3Reader(const S3BlobStore& store, std::string object, uint64_t offset, uint64_t length, int64_t chunk)
      : store_(store), object_(std::move(object)), next_(offset), left_(length), chunk_(static_cast<uint64_t>(chunk)) {}
  ~S3Reader() override {
    if (fetching_.valid()) fetching_.wait();
  }

  Result<size_t> Read(char* buffer, size_t capacity) override {
    if (pos_ == buffered_.size()) {
      if (!fetching_.valid()) FetchNext();
      if (!fetching_.valid()) return size_t{0};
      const uint64_t want = fetching_want_;
      ASSIGN_OR_RETURN(auto response, fetching_.get());
      if (response.body.size() != want) {
        return MakeError(ErrorCode::kUnavailable,
                         fmt::format("the object store sent {} bytes for a range of {}", response.body.size(), want));
      }
      buffered_ = std::move(response.body);
      pos_ = 0;
      FetchNext();
    }
    const size_t n = std::min(capacity, buffered_.size() - pos_);
    std::copy_n(buffered_.data() + pos_, n, buffer);
    pos_ += n;
    return n;
  }

 private:
  // Starts the GET of the next range, if any is left.
  void FetchNext() {
    if (left_ == 0) return;
    const uint64_t want = std::min(chunk_, left_);
    S3BlobStore::Call call;
    call.object = object_;
    call.headers = {{"Range", fmt::format("bytes={}-{}", next_, next_ + want - 1)}};
    call.max_response_bytes = static_cast<int64_t>(want);
    fetching_ = std::async(std::launch::async, [this, call = std::move(call)] { return store_.Send(call); });
    fetching_want_ = want;
    next_ += want;
    left_ -= want;
  }

  const S3BlobStore& store_;
  std::string object_;
  uint64_t next_;
  uint64_t left_;
  uint64_t chunk_;
  std::future<Result<net::OutboundResponse>> fetching_;
  uint64_t fetching_want_ = 0;
  std::string buffered_;
  size_t pos_ = 0;
};

}  // namespace

Status ParseS3Url(std::string_view url, S3Options& options) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) return MakeError(ErrorCode::kInvalidInput, "blobs.url must be s3://bucket[/prefix]");
  url.remove_prefix(kScheme.size());
  const auto slash = url.find('/');
  options.bucket = std::string(url.substr(0, slash));
  std::string prefix = slash == std::string_view::npos ? "" : std::string(url.substr(slash + 1));
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  options.prefix = prefix.empty() ? "" : prefix + "/";
  const bool valid_bucket = options.bucket.size() >= 3 && options.bucket.size() <= 63 &&
                            options.bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string::npos;
  if (!valid_bucket) return MakeError(ErrorCode::kInvalidInput, fmt::format("'{}' is not an S3 bucket name", options.bucket));
  return Status::Ok();
}

std::string AwsEndpoint(const std::string& region) { return fmt::format("https://s3.{}.amazonaws.com", region); }

S3BlobStore::S3BlobStore(S3Options options, std::string name_space, std::filesystem::path scratch,
                         net::OutboundClient& client)
    : BlobStore(std::move(scratch)), options_(std::move(options)), name_space_(std::move(name_space)), client_(client) {
  std::string_view endpoint = options_.endpoint;
  const auto scheme_end = endpoint.find("://");
  scheme_ = std::string(endpoint.substr(0, scheme_end));
  std::string_view authority = endpoint.substr(scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  authority = authority.substr(0, authority.find('/'));
  host_ = options_.path_style ? std::string(authority) : options_.bucket + "." + std::string(authority);
}

SignableRequest S3BlobStore::Signable(const Call& call) const {
  SignableRequest r;
  r.method = call.method;
  r.host = host_;
  const std::string object_path = call.object.empty() ? "" : "/" + call.object;
  r.path = options_.path_style ? "/" + options_.bucket + object_path : (object_path.empty() ? "/" : object_path);
  r.query = call.query;
  r.payload_hash = Sha256Hex(call.body);
  return r;
}

std::string S3BlobStore::Url(const SignableRequest& r) const {
  std::string url = scheme_ + "://" + host_ + UriEncode(r.path, false);
  if (!r.query.empty()) url += "?" + CanonicalQuery(r.query);
  return url;
}

Result<net::OutboundResponse> S3BlobStore::Send(const Call& call) const {
  const SignableRequest signable = Signable(call);
  Error last = MakeError(ErrorCode::kUnavailable, "not sent");
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    net::OutboundRequest request;
    request.method = call.method;
    request.url = Url(signable);
    request.headers = call.headers;
    request.headers.emplace_back("Host", host_);
    for (auto& header : SignHeaders(signable, options_.credentials, options_.region, NowUnixS())) {
      request.headers.push_back(std::move(header));
    }
    request.body = call.body;
    request.max_body_bytes = call.max_response_bytes;
    request.timeout_ms = options_.timeout_ms;
    request.follow_redirects = false;
    auto response = client_.Send(std::move(request));
    const std::string what = fmt::format("object store {} {}", call.method, call.object.empty() ? options_.bucket : call.object);
    if (!response.ok()) {
      last = MakeError(ErrorCode::kUnavailable, fmt::format("{}: {}", what, response.error().message));
      if (response.error().detail_code == "address_blocked") return last;
      continue;
    }
    if (response->status >= 200 && response->status < 300) return response;
    if (response->status == 404) return MakeError(ErrorCode::kNotFound, what + ": not found");
    const std::string summary = ParseErrorSummary(response->body);
    last = MakeError(ErrorCode::kUnavailable,
                     fmt::format("{}: HTTP {}{}", what, response->status, summary.empty() ? "" : " " + summary));
    if (response->status < 500 && response->status != 429) return last;
  }
  return last;
}

Status S3BlobStore::CheckReachable() const {
  Call call;
  call.query = {{"list-type", "2"}, {"max-keys", "1"}, {"prefix", options_.prefix + name_space_}};
  auto response = Send(call);
  if (response.ok()) return Status::Ok();
  return MakeError(ErrorCode::kUnavailable, fmt::format("cannot use bucket {} at {}: {}", options_.bucket,
                                                        options_.endpoint, response.error().message));
}

Result<int64_t> S3BlobStore::Put(std::string_view key, const std::filesystem::path& file) const {
  struct RemoveFile {
    const std::filesystem::path& path;
    ~RemoveFile() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  } remove_file{file};
  if (!IsValidKey(key)) return MakeError(ErrorCode::kInvalidId, "not a blob key");
  std::error_code ec;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(file, ec));
  if (ec) return MakeError(ErrorCode::kUnavailable, "cannot read " + file.string());
  const std::string object = ObjectName(key);
  if (size > options_.part_bytes) return PutInParts(object, file, size);
  Call call;
  call.method = "PUT";
  call.object = object;
  ASSIGN_OR_RETURN(call.body, ReadRange(file, 0, size));
  call.headers = {{"Content-Type", ContentTypeFor(key)}};
  RETURN_IF_ERROR(Send(call));
  return size;
}

Result<int64_t> S3BlobStore::PutInParts(const std::string& object, const std::filesystem::path& file,
                                        int64_t size) const {
  Call start;
  start.method = "POST";
  start.object = object;
  start.query = {{"uploads", ""}};
  start.headers = {{"Content-Type", ContentTypeFor(object)}};
  ASSIGN_OR_RETURN(auto started, Send(start));
  ASSIGN_OR_RETURN(const std::string upload_id, ParseUploadId(started.body));
  auto abort = [&](Error e) -> Result<int64_t> {
    Call call;
    call.method = "DELETE";
    call.object = object;
    call.query = {{"uploadId", upload_id}};
    if (auto aborted = Send(call); !aborted.ok()) {
      spdlog::warn("multipart upload {} of {} not aborted: {}", upload_id, object, aborted.error().message);
    }
    return e;
  };
  std::string manifest = "<CompleteMultipartUpload>";
  int part = 1;
  for (int64_t offset = 0; offset < size; offset += options_.part_bytes, ++part) {
    Call call;
    call.method = "PUT";
    call.object = object;
    call.query = {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}};
    auto bytes = ReadRange(file, offset, std::min(options_.part_bytes, size - offset));
    if (!bytes.ok()) return abort(bytes.error());
    call.body = std::move(*bytes);
    auto sent = Send(call);
    if (!sent.ok()) return abort(sent.error());
    manifest += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", part, Header(*sent, "etag"));
  }
  manifest += "</CompleteMultipartUpload>";
  Call complete;
  complete.method = "POST";
  complete.object = object;
  complete.query = {{"uploadId", upload_id}};
  complete.body = std::move(manifest);
  complete.headers = {{"Content-Type", "application/xml"}};
  auto completed = Send(complete);
  if (!completed.ok()) return abort(completed.error());
  // S3 may answer 200 and still report an error in the body of a completion.
  if (const std::string error = ParseErrorSummary(completed->body); !error.empty()) {
    return abort(MakeError(ErrorCode::kUnavailable, "object store completing " + object + ": " + error));
  }
  return size;
}

Result<media::BlobEntry> S3BlobStore::Stat(std::string_view key) const {
  if (!IsValidKey(key)) return MakeError(ErrorCode::kInvalidId, "not a blob key");
  Call call;
  call.method = "HEAD";
  call.object = ObjectName(key);
  ASSIGN_OR_RETURN(auto response, Send(call));
  return media::BlobEntry{std::string(key), std::strtoll(Header(response, "content-length").c_str(), nullptr, 10),
                          ParseHttpDateMs(Header(response, "last-modified"))};
}

Result<std::unique_ptr<media::BlobReader>> S3BlobStore::Open(std::string_view key, uint64_t offset,
                                                             uint64_t length) const {
  if (!IsValidKey(key)) return MakeError(ErrorCode::kInvalidId, "not a blob key");
  return std::unique_ptr<media::BlobReader>(
      std::make_unique<S3Reader>(*this, ObjectName(key), offset, length, options_.read_chunk_bytes));
}

Status S3BlobStore::Delete(std::string_view key) const {
  if (!IsValidKey(key)) return MakeError(ErrorCode::kInvalidId, "not a blob key");
  Call call;
  call.method = "DELETE";
  call.object = ObjectName(key);
  auto response = Send(call);
  if (!response.ok() && response.error().code != ErrorCode::kNotFound) return response.error();
  return Status::Ok();
}

Result<std::vector<media::BlobEntry>> S3BlobStore::List(std::string_view prefix, std::string_view start_after,
                                                        int limit) const {
  const std::string root = options_.prefix + name_space_;
  std::vector<media::BlobEntry> out;
  std::string after = start_after.empty() ? "" : root + std::string(start_after);
  // Objects that are not blobs (another tool's) are skipped: a page of only those is read past.
  for (;;) {
    Call call;
    call.query = {{"list-type", "2"}, {"max-keys", std::to_string(limit)}, {"prefix", root + std::string(prefix)}};
    if (!after.empty()) call.query.emplace_back("start-after", after);
    call.max_response_bytes = 16 << 20;
    ASSIGN_OR_RETURN(auto response, Send(call));
    ASSIGN_OR_RETURN(auto page, ParseListObjects(response.body));
    for (auto& o : page.objects) {
      std::string key = o.key.substr(std::min(root.size(), o.key.size()));
      if (IsValidKey(key)) out.push_back({std::move(key), o.bytes, o.modified_ms});
    }
    if (!out.empty() || !page.truncated || page.objects.empty()) return out;
    after = page.objects.back().key;
  }
}

std::optional<std::string> S3BlobStore::PresignedUrl(std::string_view key, int64_t ttl_s) const {
  if (!IsValidKey(key)) return std::nullopt;
  Call call;
  call.object = ObjectName(key);
  SignableRequest r = Signable(call);
  return scheme_ + "://" + host_ + UriEncode(r.path, false) + "?" +
         PresignQuery(r, options_.credentials, options_.region, NowUnixS(), ttl_s);
}

}  // namespace wanserve::objectstore
