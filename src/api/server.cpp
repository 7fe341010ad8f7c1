#include "api/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <thread>

namespace wanserve::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Request counters of one route, updated without locks on the request path and published to
// the registry when /metrics is scraped.
struct RouteStats {
  static constexpr int kMinStatus = 100;
  static constexpr int kMaxStatus = 599;
  std::array<std::atomic<uint64_t>, kMaxStatus - kMinStatus + 1> by_status{};
  std::vector<std::atomic<uint64_t>> buckets = std::vector<std::atomic<uint64_t>>(MetricsRegistry::DefaultBuckets().size());
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> micros{0};

  void Record(int status, double seconds) {
    if (status >= kMinStatus && status <= kMaxStatus) by_status[status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
    const auto& bounds = MetricsRegistry::DefaultBuckets();
    for (size_t i = 0; i < bounds.size(); ++i) {
      if (seconds <= bounds[i]) buckets[i].fetch_add(1, std::memory_order_relaxed);
    }
    count.fetch_add(1, std::memory_order_relaxed);
    micros.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }

  void Publish(MetricsRegistry& m, const std::string& route, const std::string& method) const {
    for (int st = kMinStatus; st <= kMaxStatus; ++st) {
      const uint64_t n = by_status[st - kMinStatus].load(std::memory_order_relaxed);
      if (n) m.SetCounter("wanserve_http_requests_total", {{"route", route}, {"method", method}, {"code", std::to_string(st)}}, static_cast<double>(n));
    }
    const uint64_t total = count.load(std::memory_order_relaxed);
    if (!total) return;
    std::vector<uint64_t> counts;
    for (const auto& b : buckets) counts.push_back(b.load(std::memory_order_relaxed));
    m.SetHistogram("wanserve_http_request_seconds", {{"route", route}}, counts,
                   static_cast<double>(micros.load(std::memory_order_relaxed)) / 1e6, total);
  }
};

HttpResponse PlainError(int status, const std::string& code, const std::string& message) {
  return HttpResponse::Json(status, fmt::format(R"({{"error":"{}","message":"{}"}})", code, message));
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, const Authenticator& auth, MetricsRegistry& metrics)
      : options_(std::move(options)), router_(router), auth_(auth), metrics_(metrics),
        acceptor_(ioc_), route_stats_(router.routes().size() + 1) {
    metrics_.Describe("wanserve_http_requests_total", "counter", "HTTP requests by route, method and status code");
    metrics_.Describe("wanserve_http_request_seconds", "histogram", "HTTP request handling time by route");
    metrics_.AddCollector([this](MetricsRegistry& m) {
      const auto& routes = router_.routes();
      for (size_t i = 0; i < routes.size(); ++i) route_stats_[i].Publish(m, routes[i].pattern, routes[i].method);
      route_stats_.back().Publish(m, "unmatched", "*");
    });
  }

  Result<uint16_t> Bind() {
    beast::error_code ec;
    auto addr = asio::ip::make_address(options_.host, ec);
    if (ec) return MakeError(ErrorCode::kInvalidInput, "invalid listen address " + options_.host);
    tcp::endpoint ep(addr, options_.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return MakeError(ErrorCode::kUnavailable,
                       fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port, ec.message()));
    }
    return acceptor_.local_endpoint().port();
  }

  void Run() {
    asio::co_spawn(ioc_, Accept(), asio::detached);
    int n = options_.io_threads > 0 ? options_.io_threads
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }

  void Shutdown() {
    if (stopping_.exchange(true)) return;
    asio::post(ioc_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    handler_pool_.join();
    {
      std::lock_guard lock(done_mu_);
      done_ = true;
    }
    done_cv_.notify_all();
  }

  void Wait() {
    std::unique_lock lock(done_mu_);
    done_cv_.wait(lock, [&] { return done_; });
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) {
        if (!acceptor_.is_open()) co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(acceptor_.get_executor(), Session(std::move(socket)), asio::detached);
    }
  }

  HttpResponse Dispatch(const RouteMatch& match, HttpRequest& req) {
    RequestContext rc;
    rc.params = match.params;
    if (match.route->access != Access::kPublic) {
      auto key = auth_.Authenticate(req);
      if (!key.ok()) return match.route->render_error(key.error());
      if (key->admin && match.route->access == Access::kApiKey) {
        return match.route->render_error(
            MakeError(ErrorCode::kUnauthorized, "an admin token cannot call the generation API; use an API key"));
      }
      if (!key->admin && match.route->access == Access::kAdminToken) {
        return match.route->render_error(MakeError(ErrorCode::kForbidden, "this route needs an admin token"));
      }
      rc.key_id = key->key_id;
      rc.account_id = key->account_id;
    }
    return match.route->handler(req, rc);
  }

  static HttpRequest ToRequest(const http::request<http::string_body>& msg, const boost::urls::url_view& url) {
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.path = std::string(url.path());
    for (auto param : url.params()) req.query[std::string(param.key)] = std::string(param.value);
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(field.value());
    }
    return req;
  }

  static void LoadFileBody(HttpResponse& res) {
    std::ifstream f(res.file_path, std::ios::binary);
    std::string body(res.file_length, '\0');
    f.seekg(static_cast<std::streamoff>(res.file_offset));
    f.read(body.data(), static_cast<std::streamsize>(res.file_length));
    if (!f) {
      res = PlainError(500, "internal", "cannot read file");
      return;
    }
    res.body = std::move(body);
  }

  asio::awaitable<bool> Write(beast::tcp_stream& stream, HttpResponse res, unsigned version, bool keep_alive) {
    if (!res.file_path.empty()) LoadFileBody(res);
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::server, "wanserve");
    out.set(http::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers) out.set(k, v);
    out.keep_alive(keep_alive && !stopping_);
    out.body() = std::move(res.body);
    out.prepare_payload();
    stream.expires_after(std::chrono::milliseconds(options_.body_timeout_ms));
    auto [ec, n] = co_await http::async_write(stream, out, kNoThrow);
    (void)n;
    co_return !ec && out.keep_alive();
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (bool first = true; !stopping_; first = false) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      // The limit is applied once the route is known, so an oversize body can be refused in
      // the route's dialect (Beast would otherwise fail the header read itself).
      parser.body_limit(boost::none);
      stream.expires_after(std::chrono::milliseconds(first ? options_.header_timeout_ms : options_.idle_timeout_ms));
      auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
      (void)hn;
      if (hec) break;
      in_flight_++;
      const auto started = std::chrono::steady_clock::now();
      auto& head = parser.get();
      const unsigned version = head.version();
      const bool keep_alive = head.keep_alive();
      size_t route_index = router_.routes().size();
      HttpResponse res;
      bool keep = keep_alive;

      auto url = boost::urls::parse_origin_form(head.target());
      if (!url) {
        res = PlainError(400, "invalid_request", "malformed request target");
        keep = false;
      } else {
        auto match = router_.Match(std::string(head.method_string()), std::string(url->path()));
        if (!match.route) {
          res = match.path_matched ? PlainError(405, "method_not_allowed", "method not allowed")
                                   : PlainError(404, "not_found", "no such endpoint");
          // The body (if any) is not read; close so it is not parsed as the next request.
          keep = keep && parser.is_done();
        } else {
          route_index = static_cast<size_t>(match.route - router_.routes().data());
          const auto length = parser.content_length();
          const size_t limit = match.route->body_limit ? match.route->body_limit : options_.body_limit;
          if (length && *length > limit) {
            res = match.route->render_error(
                MakeError(ErrorCode::kPayloadTooLarge, fmt::format("request body is larger than {} bytes", limit)));
            keep = false;
          } else {
            parser.body_limit(limit);
            beast::error_code bec;
            if (!parser.is_done()) {
              stream.expires_after(std::chrono::milliseconds(options_.body_timeout_ms));
              auto [ec, bn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
              (void)bn;
              bec = ec;
            }
            if (bec == http::error::body_limit) {
              res = match.route->render_error(
                  MakeError(ErrorCode::kPayloadTooLarge, fmt::format("request body is larger than {} bytes", limit)));
              keep = false;
            } else if (bec) {
              in_flight_--;
              break;
            } else {
              HttpRequest req = ToRequest(parser.get(), *url);
              req.body = std::move(parser.get().body());
              if (req.method == "GET" || req.method == "HEAD") {
                res = Dispatch(match, req);
              } else {
                // The handler runs on the pool; this session resumes on its io thread with the answer.
                res = co_await asio::co_spawn(
                    handler_pool_,
                    [this, &match, &req]() -> asio::awaitable<HttpResponse> { co_return Dispatch(match, req); },
                    asio::use_awaitable);
              }
            }
          }
        }
      }
      const int status = res.status;
      const bool again = co_await Write(stream, std::move(res), version, keep);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      route_stats_[route_index].Record(status, seconds);
      in_flight_--;
      if (!again) break;
    }
    co_await LingeringClose(stream);
  }

  // Closing a socket with unread request bytes makes the kernel send a reset, and the client
  // may lose the error response it has not read yet (a 413, say). So: send FIN, then drain
  // what the client still sends, for a bounded time and size.
  asio::awaitable<void> LingeringClose(beast::tcp_stream& stream) {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::vector<char> sink(64 * 1024);
    size_t drained = 0;
    stream.expires_after(std::chrono::seconds(2));
    while (drained < 16 * 1024 * 1024) {
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
      if (rec) break;
      drained += n;
    }
    stream.socket().close(ec);
  }

  ServerOptions options_;
  const Router& router_;
  const Authenticator& auth_;
  MetricsRegistry& metrics_;
  asio::io_context ioc_;
  asio::thread_pool handler_pool_{static_cast<size_t>(std::max(1, options_.handler_threads))};
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  std::vector<RouteStats> route_stats_;  // one per route, plus one for unmatched requests
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

HttpServer::HttpServer(ServerOptions options, const Router& router, const Authenticator& auth,
                       MetricsRegistry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, auth, metrics)) {}
HttpServer::~HttpServer() { impl_->Shutdown(); }
Result<uint16_t> HttpServer::Bind() { return impl_->Bind(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Shutdown() { impl_->Shutdown(); }
void HttpServer::Wait() { impl_->Wait(); }

}  // namespace wanserve::api
