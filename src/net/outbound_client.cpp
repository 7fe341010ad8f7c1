#include "net/outbound_client.h"

#include <curl/curl.h>
#include <netdb.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace wanserve::net {
namespace {

Error NetError(ErrorCode code, std::string detail, std::string message) {
  Error e = MakeError(code, std::move(message));
  e.detail_code = std::move(detail);
  return e;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct UrlParts {
  std::string url;  // normalized
  std::string scheme;
  std::string host;  // without IPv6 brackets
  long port = 0;
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Parses url, resolved against base when it is relative (a redirect's Location).
Result<UrlParts> ParseUrl(const std::string& url, const std::string& base = {}) {
  CURLU* h = curl_url();
  auto free_h = std::unique_ptr<CURLU, decltype(&curl_url_cleanup)>(h, curl_url_cleanup);
  auto bad = [&](std::string_view why) {
    return NetError(ErrorCode::kInvalidInput, "bad_url", fmt::format("'{}' is not a valid URL: {}", url, why));
  };
  if (!base.empty() && curl_url_set(h, CURLUPART_URL, base.c_str(), 0) != CURLUE_OK) return bad("bad base");
  if (CURLUcode rc = curl_url_set(h, CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    return bad(curl_url_strerror(rc));
  }
  UrlParts parts;
  auto get = [&](CURLUPart part, std::string& out, unsigned flags) {
    char* value = nullptr;
    if (curl_url_get(h, part, &value, flags) != CURLUE_OK) return false;
    out = value;
    curl_free(value);
    return true;
  };
  std::string port;
  if (!get(CURLUPART_URL, parts.url, 0) || !get(CURLUPART_SCHEME, parts.scheme, 0) ||
      !get(CURLUPART_HOST, parts.host, 0) || !get(CURLUPART_PORT, port, CURLU_DEFAULT_PORT)) {
    return bad("no host");
  }
  parts.scheme = Lower(parts.scheme);
  if (parts.host.size() >= 2 && parts.host.front() == '[') parts.host = parts.host.substr(1, parts.host.size() - 2);
  parts.host = Lower(parts.host);
  if (parts.host.empty()) return bad("no host");
  parts.port = std::stol(port);
  return parts;
}

Status CheckScheme(const UrlParts& parts, bool require_https) {
  if (parts.scheme == "https" || (parts.scheme == "http" && !require_https)) return Status::Ok();
  return NetError(ErrorCode::kInvalidInput, "scheme_not_allowed",
                  fmt::format("'{}' uses {}; only {} is allowed", parts.url, parts.scheme,
                              require_https ? "https" : "http and https"));
}

bool IsLocalhostName(const std::string& host) {
  return host == "localhost" || (host.size() > 10 && host.ends_with(".localhost")) ||
         host == "localhost.";
}


std::optional<IpAddress> FromSockaddr(const sockaddr* sa) {
  IpAddress ip;
  if (sa->sa_family == AF_INET) {
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
    return ip;
  }
  if (sa->sa_family == AF_INET6) {
    ip.v6 = true;
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

// Certificates of the operator's extra CA bundle, loaded once at start-up.
class ExtraRoots {
 public:
  explicit ExtraRoots(const std::string& file) {
    if (file.empty()) return;
    BIO* bio = BIO_new_file(file.c_str(), "r");
    if (!bio) throw std::runtime_error("cannot read outbound CA file " + file);
    while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs_.push_back(cert);
    BIO_free(bio);
    if (certs_.empty()) throw std::runtime_error("no PEM certificate in outbound CA file " + file);
  }
  ~ExtraRoots() {
    for (X509* c : certs_) X509_free(c);
  }
  bool empty() const { return certs_.empty(); }

  static CURLcode AddTo(CURL*, void* ssl_ctx, void* self) {
    X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
    for (X509* c : static_cast<ExtraRoots*>(self)->certs_) X509_STORE_add_cert(store, c);
    return CURLE_OK;
  }

 private:
  std::vector<X509*> certs_;
};

}  // namespace

Result<std::vector<IpAddress>> ResolveHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &list); rc != 0) {
    return NetError(ErrorCode::kUnavailable, "dns_failed",
                    fmt::format("cannot resolve host {}: {}", host, gai_strerror(rc)));
  }
  std::vector<IpAddress> out;
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    IpAddress ip;
    if (ai->ai_family == AF_INET) {
      std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
    } else if (ai->ai_family == AF_INET6) {
      ip.v6 = true;
      std::memcpy(ip.bytes.data(), &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), ip) == out.end()) out.push_back(ip);
  }
  freeaddrinfo(list);
  return out;
}

struct Transfer {
  OutboundRequest request;
  OutboundClient::Done done;
  UrlParts target;
  int redirects = 0;
  int64_t started_ms = 0;
  std::vector<IpAddress> addresses;  // the checked ones; connections go nowhere else
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  curl_slist* resolve_list = nullptr;
  OutboundResponse response;
  bool too_large = false;
  std::optional<Error> blocked;
  const AddressPolicy* policy = nullptr;
};

struct OutboundClient::Impl {
  OutboundOptions options;
  AddressPolicy policy;
  ExtraRoots roots;
  CURLM* multi = nullptr;

  std::mutex mu;
  std::condition_variable resolve_cv;
  std::deque<std::shared_ptr<Transfer>> to_resolve;
  std::vector<std::shared_ptr<Transfer>> ready;
  bool stopping = false;
  std::unordered_map<CURL*, std::shared_ptr<Transfer>> active;  // multi thread only
  std::vector<std::thread> resolvers;
  std::thread driver;

  explicit Impl(OutboundOptions o)
      : options(std::move(o)), policy(options.allowlist), roots(options.extra_ca_file) {
    if (!options.resolver) options.resolver = ResolveHost;
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi = curl_multi_init();
    for (int i = 0; i < std::max(1, options.resolver_threads); ++i) {
      resolvers.emplace_back([this] { ResolveLoop(); });
    }
    driver = std::thread([this] { DriveLoop(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    resolve_cv.notify_all();
    curl_multi_wakeup(multi);
    for (auto& t : resolvers) t.join();
    driver.join();
    for (auto& t : to_resolve) Finish(t, ShuttingDown());
    for (auto& t : ready) Finish(t, ShuttingDown());
    curl_multi_cleanup(multi);
  }

  static Error ShuttingDown() {
    return NetError(ErrorCode::kUnavailable, "transfer_failed", "the server is shutting down");
  }

  // Frees the transfer's libcurl handle and lists (a redirect starts over with new ones).
  void ReleaseHandle(Transfer& t) {
    if (t.easy) {
      curl_multi_remove_handle(multi, t.easy);
      curl_easy_cleanup(t.easy);
      t.easy = nullptr;
    }
    curl_slist_free_all(t.header_list);
    curl_slist_free_all(t.resolve_list);
    t.header_list = t.resolve_list = nullptr;
  }

  void Finish(const std::shared_ptr<Transfer>& t, Result<OutboundResponse> result) {
    ReleaseHandle(*t);
    auto done = std::move(t->done);
    if (done) done(std::move(result));
  }

  void Enqueue(std::shared_ptr<Transfer> t) {
    {
      std::lock_guard lock(mu);
      if (!stopping) {
        to_resolve.push_back(std::move(t));
        resolve_cv.notify_one();
        return;
      }
    }
    Finish(t, ShuttingDown());
  }

  // Addresses for the transfer's host, every one of them allowed; an error otherwise.
  Result<std::vector<IpAddress>> Addresses(const UrlParts& target) const {
    std::vector<IpAddress> addresses;
    if (auto literal = ParseIpLiteral(target.host)) {
      addresses.push_back(*literal);
    } else if (IsLocalhostName(target.host)) {
      addresses = {*ParseIp("127.0.0.1"), *ParseIp("::1")};
    } else {
      ASSIGN_OR_RETURN(addresses, options.resolver(target.host));
      if (addresses.empty()) {
        return NetError(ErrorCode::kUnavailable, "dns_failed", fmt::format("host {} has no address", target.host));
      }
    }
    // One internal answer refuses the host: a name that resolves to both a public and a
    // private address is either misconfigured or an attack.
    for (const auto& ip : addresses) {
      if (Status s = policy.Check(ip, target.host, static_cast<int>(target.port)); !s.ok()) {
        Error e = s.error();
        if (!ParseIpLiteral(target.host)) e.message = fmt::format("host {} resolves to {}", target.host, e.message);
        return e;
      }
    }
    return addresses;
  }

  void ResolveLoop() {
    while (true) {
      std::shared_ptr<Transfer> t;
      {
        std::unique_lock lock(mu);
        resolve_cv.wait(lock, [&] { return stopping || !to_resolve.empty(); });
        if (stopping) return;
        t = std::move(to_resolve.front());
        to_resolve.pop_front();
      }
      auto addresses = Addresses(t->target);
      if (!addresses.ok()) {
        Finish(t, addresses.error());
        continue;
      }
      t->addresses = std::move(addresses).value();
      {
        std::lock_guard lock(mu);
        ready.push_back(std::move(t));
      }
      curl_multi_wakeup(multi);
    }
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
      t->response.headers.clear();  // an interim (1xx) answer came first
      return size * n;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return size * n;
    std::string name = Lower(std::string(line.substr(0, colon)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    // A HEAD's Content-Length tells the size of a body that is not sent.
    if (name == "content-length" && t->request.method != "HEAD") {
      int64_t declared = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), declared);
      if (ec == std::errc() && declared > t->request.max_body_bytes) {
        t->too_large = true;
        return 0;
      }
      if (ec == std::errc() && declared > 0) t->response.body.reserve(static_cast<size_t>(declared));
    }
    t->response.headers[name] = std::string(value);
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    if (static_cast<int64_t>(t->response.body.size() + size * n) > t->request.max_body_bytes) {
      t->too_large = true;
      return 0;
    }
    t->response.body.append(data, size * n);
    return size * n;
  }

  // Last line of defence: whatever curl is about to connect to must be one of the checked
  // addresses (and still allowed).
  static curl_socket_t OnOpenSocket(void* user, curlsocktype, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(user);
    auto ip = FromSockaddr(&address->addr);
    if (!ip || std::find(t->addresses.begin(), t->addresses.end(), *ip) == t->addresses.end()) {
      t->blocked = NetError(ErrorCode::kForbidden, "address_blocked", "connection to an unchecked address refused");
      return CURL_SOCKET_BAD;
    }
    if (Status s = t->policy->Check(*ip, t->target.host, static_cast<int>(t->target.port)); !s.ok()) {
      t->blocked = s.error();
      return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype, address->protocol);
  }

  void Begin(const std::shared_ptr<Transfer>& t) {
    const int64_t left = t->request.timeout_ms - (SteadyMs() - t->started_ms);
    if (left <= 0) {
      Finish(t, NetError(ErrorCode::kTimeout, "timeout", fmt::format("{} timed out", t->request.url)));
      return;
    }
    CURL* easy = curl_easy_init();
    t->easy = easy;
    t->response = OutboundResponse{};
    t->too_large = false;
    t->blocked.reset();
    t->policy = &policy;
    const auto& req = t->request;
    curl_easy_setopt(easy, CURLOPT_URL, t->target.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_PROXY, "");  // proxies from the environment would bypass the guard
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!roots.empty()) {
      curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &ExtraRoots::AddTo);
      curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, &roots);
    }
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(req.connect_timeout_ms, left)));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(left));
    curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Impl::OnOpenSocket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, t.get());
    if (!ParseIpLiteral(t->target.host)) {
      std::string entry = fmt::format("{}:{}:", t->target.host, t->target.port);
      for (size_t i = 0; i < t->addresses.size(); ++i) {
        const auto& ip = t->addresses[i];
        entry += (i ? "," : "") + (ip.v6 ? "[" + ToString(ip) + "]" : ToString(ip));
      }
      t->resolve_list = curl_slist_append(nullptr, entry.c_str());
      curl_easy_setopt(easy, CURLOPT_RESOLVE, t->resolve_list);
    }
    t->header_list = curl_slist_append(nullptr, "Expect:");
    for (const auto& [name, value] : req.headers) {
      t->header_list = curl_slist_append(t->header_list, (name + ": " + value).c_str());
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->header_list);
    if (req.method == "HEAD") {
      curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else if (req.method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }
    active[easy] = t;
    curl_multi_add_handle(multi, easy);
  }

  Error TransferError(const Transfer& t, CURLcode rc) const {
    if (t.blocked) return *t.blocked;
    if (t.too_large) {
      return NetError(ErrorCode::kPayloadTooLarge, "too_large",
                      fmt::format("{} answered with more than {} bytes", t.target.url, t.request.max_body_bytes));
    }
    std::string what = fmt::format("{}: {}", t.target.url, curl_easy_strerror(rc));
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return NetError(ErrorCode::kTimeout, "timeout", what);
      case CURLE_COULDNT_RESOLVE_HOST:
        return NetError(ErrorCode::kUnavailable, "dns_failed", what);
      case CURLE_COULDNT_CONNECT:
        return NetError(ErrorCode::kUnavailable, "connect_failed", what);
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CACERT_BADFILE:
        return NetError(ErrorCode::kUnavailable, "tls_failed", what);
      default:
        return NetError(ErrorCode::kUnavailable, "transfer_failed", what);
    }
  }

  void Completed(CURL* easy, CURLcode rc) {
    auto it = active.find(easy);
    if (it == active.end()) return;
    auto t = it->second;
    active.erase(it);
    if (rc != CURLE_OK) {
      Finish(t, TransferError(*t, rc));
      return;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->response.status);
    char* ip = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip) t->response.remote_ip = ip;
    t->response.url = t->target.url;
    t->response.elapsed_ms = SteadyMs() - t->started_ms;
    const long status = t->response.status;
    const bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    auto location = t->response.headers.find("location");
    if (!redirect || !t->request.follow_redirects || t->request.method != "GET" ||
        location == t->response.headers.end()) {
      OutboundResponse response = std::move(t->response);
      Finish(t, std::move(response));
      return;
    }
    if (++t->redirects > options.max_redirects) {
      Finish(t, NetError(ErrorCode::kUnavailable, "too_many_redirects",
                         fmt::format("{}: more than {} redirects", t->request.url, options.max_redirects)));
      return;
    }
    auto next = ParseUrl(location->second, t->target.url);
    Status scheme = next.ok() ? CheckScheme(next.value(), t->request.require_https) : Status(next.error());
    if (!scheme.ok()) {
      Finish(t, scheme.error());
      return;
    }
    ReleaseHandle(*t);
    t->target = std::move(next).value();
    Enqueue(t);
  }

  void DriveLoop() {
    while (true) {
      std::vector<std::shared_ptr<Transfer>> batch;
      {
        std::lock_guard lock(mu);
        if (stopping) break;
        batch.swap(ready);
      }
      for (auto& t : batch) Begin(t);
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE) Completed(msg->easy_handle, msg->data.result);
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    auto remaining = std::move(active);
    for (auto& [easy, t] : remaining) Finish(t, ShuttingDown());
  }
};

OutboundClient::OutboundClient(OutboundOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  if (!impl_->options.serves_clients) return;
  for (const auto& entry : impl_->policy.allowlist()) {
    spdlog::warn("outbound guard: {} is allowlisted; the server will connect to internal addresses there on clients' "
                 "behalf", ToString(entry));
  }
}

OutboundClient::~OutboundClient() = default;

void OutboundClient::Start(OutboundRequest request, Done done) {
  auto t = std::make_shared<Transfer>();
  t->started_ms = SteadyMs();
  t->done = std::move(done);
  auto target = ParseUrl(request.url);
  Status ok = target.ok() ? CheckScheme(target.value(), request.require_https) : Status(target.error());
  t->request = std::move(request);
  if (!ok.ok()) {
    impl_->Finish(t, ok.error());
    return;
  }
  t->target = std::move(target).value();
  impl_->Enqueue(std::move(t));
}

Result<OutboundResponse> OutboundClient::Send(OutboundRequest request) {
  std::promise<Result<OutboundResponse>> promise;
  auto future = promise.get_future();
  Start(std::move(request), [&promise](Result<OutboundResponse> r) { promise.set_value(std::move(r)); });
  return future.get();
}

Status OutboundClient::CheckUrl(const std::string& url, bool require_https) const {
  return CheckUrlWhenSet(url, require_https, impl_->policy);
}

Status CheckUrlWhenSet(const std::string& url, bool require_https, const AddressPolicy& policy) {
  ASSIGN_OR_RETURN(UrlParts parts, ParseUrl(url));
  RETURN_IF_ERROR(CheckScheme(parts, require_https));
  std::vector<IpAddress> addresses;
  if (auto literal = ParseIpLiteral(parts.host)) {
    addresses.push_back(*literal);
  } else if (IsLocalhostName(parts.host)) {
    addresses = {*ParseIp("127.0.0.1"), *ParseIp("::1")};
  }
  for (const auto& ip : addresses) {
    if (Status s = policy.Check(ip, parts.host, static_cast<int>(parts.port)); !s.ok()) {
      Error e = s.error();
      if (!ParseIpLiteral(parts.host)) e.message = fmt::format("host {} resolves to {}", parts.host, e.message);
      return e;
    }
  }
  return Status::Ok();
}

const AddressPolicy& OutboundClient::policy() const { return impl_->policy; }

}  // namespace wanserve::net
