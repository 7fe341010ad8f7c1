#include "api/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <list>
#include <optional>
#include <thread>

#include "api/access_log.h"
#include "api/connection_stream.h"
#include "api/idempotency.h"
#include "api/multipart.h"
#include "api/route_stats.h"
#include "api/tls_context.h"

namespace wanserve::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Every connection lives on one io_context, so coroutines, sockets and timers name its
// executor type instead of the type-erased any_io_executor (no executor copies through a
// virtual table on each operation).
using detail::ConnectionStream;
using detail::Executor;
using detail::Socket;
template <class T>
using Awaitable = asio::awaitable<T, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;
constexpr asio::use_awaitable_t<Executor> kAwait;
constexpr auto kNoThrow = asio::as_tuple(kAwait);

constexpr size_t kFileChunk = 256 * 1024;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

HttpResponse PlainError(int status, const std::string& code, const std::string& message) {
  return HttpResponse::Json(status, fmt::format(R"({{"error":"{}","message":"{}"}})", code, message));
}

// The IMF-fixdate of the current second, formatted once per second per thread.
std::string_view HttpDate() {
  thread_local std::time_t second = 0;
  thread_local char text[40];
  const std::time_t now = std::time(nullptr);
  if (now != second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    second = now;
  }
  return text;
}

// Header values come from our own handlers; dropping CR and LF keeps a mistake there from
// ever splitting the response.
void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  for (char c : value) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  out.append("\r\n");
}

// A streamed body (length unknown) goes chunked to HTTP/1.1 clients and ends the connection for
// HTTP/1.0 ones.
std::string ResponseHead(const HttpResponse& res, std::optional<uint64_t> length, unsigned version, bool keep_alive) {
  std::string out;
  out.reserve(192);
  fmt::format_to(std::back_inserter(out), "HTTP/{}.{} {} {}\r\n", version / 10, version % 10, res.status,
                 std::string_view(http::obsolete_reason(static_cast<http::status>(res.status))));
  AppendHeader(out, "Server", "wanserve");
  AppendHeader(out, "Date", HttpDate());
  AppendHeader(out, "Content-Type", res.content_type);
  if (length) {
    AppendHeader(out, "Content-Length", std::to_string(*length));
  } else if (version >= 11) {
    AppendHeader(out, "Transfer-Encoding", "chunked");
  }
  for (const auto& [name, value] : res.headers) AppendHeader(out, name, value);
  if (version >= 11 && !keep_alive) AppendHeader(out, "Connection", "close");
  if (version < 11 && keep_alive) AppendHeader(out, "Connection", "keep-alive");
  out.append("\r\n");
  return out;
}

HttpRequest ToRequest(const http::request<http::string_body>& msg, const boost::urls::url_view& url) {
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

// The peer's address as text ("127.0.0.1", "::1"); empty when the socket has none.
std::string RemoteAddress(const Socket& s) {
  boost::system::error_code ec;
  auto endpoint = s.remote_endpoint(ec);
  return ec ? std::string() : endpoint.address().to_string();
}

// A connection and its deadline. Timeouts are enforced by one sweep per io thread over its
// connections, not by a timer per read and write: arming and cancelling a timer on every
// operation cost a timerfd update per request on the hottest path.
struct Connection {
  // tls: the listener's TLS context, or null for plain HTTP.
  Connection(Socket s, std::shared_ptr<asio::ssl::context> tls)
      : stream(tls ? ConnectionStream(std::move(s), std::move(tls)) : ConnectionStream(std::move(s))),
        remote(RemoteAddress(stream.socket())) {}
  ConnectionStream stream;
  std::string remote;  // for the access log
  int64_t deadline_ms = 0;  // steady clock; 0 = none (e.g. while a handler runs)

  void ExpireIn(int ms) { deadline_ms = SteadyMs() + ms; }
};

// One io thread: its own io_context, so a connection's work never moves between threads or
// contends for another thread's queue, and the connections the sweep watches.
struct IoThread {
  std::list<Connection> connections;
  asio::io_context ioc{1};
  std::thread thread;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router& router, const Authenticator& auth, MetricsRegistry& metrics)
      : options_(std::move(options)), router_(router), auth_(auth), metrics_(metrics),
        route_stats_(router.routes().size() + 1) {
    const int n = options_.io_threads > 0 ? options_.io_threads
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < n; ++i) io_threads_.push_back(std::make_unique<IoThread>());
    acceptor_.emplace(io_threads_.front()->ioc.get_executor());
    const int shortest = std::min({options_.header_timeout_ms, options_.body_timeout_ms, options_.idle_timeout_ms});
    sweep_ms_ = std::clamp(shortest / 10, 5, 250);
    metrics_.Describe("wanserve_http_requests_total", "counter", "HTTP requests by route, method and status code");
    metrics_.Describe("wanserve_http_request_seconds", "histogram", "HTTP request handling time by route");
    metrics_.Describe("wanserve_http_tls_handshake_failures_total", "counter",
                      "TLS handshakes that failed (plain HTTP to a TLS listener, an untrusted certificate, a timeout)");
    metrics_.AddCollector([this](MetricsRegistry& m) {
      const auto& routes = router_.routes();
      for (size_t i = 0; i < routes.size(); ++i) route_stats_[i].Publish(m, routes[i].pattern, routes[i].method);
      route_stats_.back().Publish(m, "unmatched", "*");
    });
  }

  Result<uint16_t> Bind() {
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
        return MakeError(ErrorCode::kInvalidInput, "TLS needs both tls.cert and tls.key");
      }
      ASSIGN_OR_RETURN(tls_, TlsContext::Load(options_.tls_cert_file, options_.tls_key_file));
    }
    beast::error_code ec;
    auto addr = asio::ip::make_address(options_.host, ec);
    if (ec) return MakeError(ErrorCode::kInvalidInput, "invalid listen address " + options_.host);
    tcp::endpoint ep(addr, options_.port);
    acceptor_->open(ep.protocol(), ec);
    if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_->bind(ep, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return MakeError(ErrorCode::kUnavailable,
                       fmt::format("cannot listen on {}:{}: {}", options_.host, options_.port, ec.message()));
    }
    return acceptor_->local_endpoint().port();
  }

  void Run() {
    asio::co_spawn(acceptor_->get_executor(), Accept(), asio::detached);
    for (auto& t : io_threads_) {
      asio::co_spawn(t->ioc.get_executor(), Sweep(*t), asio::detached);
      t->thread = std::thread([io = t.get()] { io->ioc.run(); });
    }
  }

  void Shutdown() {
    if (stopping_.exchange(true)) return;
    asio::post(acceptor_->get_executor(), [this] {
      beast::error_code ec;
      acceptor_->close(ec);
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
    while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (auto& t : io_threads_) t->ioc.stop();
    for (auto& t : io_threads_) {
      if (t->thread.joinable()) t->thread.join();
    }
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
  Awaitable<void> Accept() {
    for (size_t next = 0;; next = (next + 1) % io_threads_.size()) {
      IoThread& io = *io_threads_[next];
      auto [ec, socket] = co_await acceptor_->async_accept(io.ioc, kNoThrow);
      if (ec) {
        if (!acceptor_->is_open()) co_return;
        continue;
      }
      if (open_connections_.load() >= options_.max_connections) {
        // Over the cap: closed at once, before any of its bytes cost memory.
        metrics_.Increment("wanserve_http_connections_refused_total");
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      asio::co_spawn(io.ioc.get_executor(), Session(io, std::move(socket), tls_ ? tls_->Current() : nullptr),
                     asio::detached);
    }
  }

  // Closes the connections whose deadline passed; their pending read or write then fails.
  Awaitable<void> Sweep(IoThread& io) {
    Timer timer(io.ioc.get_executor());
    while (!stopping_) {
      timer.expires_after(std::chrono::milliseconds(sweep_ms_));
      co_await timer.async_wait(kNoThrow);
      const int64_t now = SteadyMs();
      for (auto& c : io.connections) {
        if (c.deadline_ms != 0 && c.deadline_ms <= now && c.stream.socket().is_open()) {
          beast::error_code ec;
          c.stream.socket().close(ec);
        }
      }
    }
  }

  // key_id: who called, for the access log (the caller's frame outlives the call).
  HttpResponse Dispatch(const RouteMatch& match, HttpRequest& req, std::string& key_id) {
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
      key_id = key->key_id;
    }
    if (match.route->access == Access::kApiKey && req.method == "POST") {
      auto idempotency_key = ReadIdempotencyKey(req);
      if (!idempotency_key.ok()) return match.route->render_error(idempotency_key.error());
      rc.idempotency_key = std::move(*idempotency_key);
      if (!rc.idempotency_key.empty()) rc.request_hash = RequestFingerprint(req);
    }
    // Errors are values here; an exception is a bug (a parser that threw on a field of an
    // unexpected type, say). It still gets an answer in the route's shape, a log line and a
    // count, instead of a dropped connection.
    try {
      return match.route->handler(req, rc);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: handler failed: {}", req.method, req.path, e.what());
      metrics_.Increment("wanserve_http_handler_failures_total");
      return match.route->render_error(MakeError(ErrorCode::kInternal, "internal error; it has been logged"));
    }
  }

  // Writes head and body in one gather write; a file or source body is sent in chunks so a
  // large download never sits in memory whole. head_only: the answer to a HEAD, whose head
  // names the length of the body it leaves out.
  Awaitable<bool> Write(Connection& conn, HttpResponse res, unsigned version, bool keep_alive, bool head_only) {
    keep_alive = keep_alive && !stopping_;
    if (res.stream) co_return co_await WriteStream(conn, std::move(res), version, keep_alive);
    std::ifstream file;
    if (!res.file_path.empty() && !head_only) {
      file.open(res.file_path, std::ios::binary);
      file.seekg(static_cast<std::streamoff>(res.file_offset));
      if (!file) {
        file.close();
        res = PlainError(500, "internal", "cannot read file");
      }
    }
    const bool chunked_body = !res.file_path.empty() || res.body_source;
    // A source may wait on the network as it closes (an object-store read still in flight when
    // the client left): it is released on the handler pool, never on this io thread.
    struct ReleaseOnPool {
      asio::thread_pool& pool;
      std::function<Result<size_t>(char*, size_t)>& source;
      ~ReleaseOnPool() {
        if (source) asio::post(pool, [released = std::move(source)]() mutable { released = nullptr; });
      }
    } release_source{handler_pool_, res.body_source};
    const uint64_t length = chunked_body ? res.file_length : res.body.size();
    const std::string head = ResponseHead(res, length, version, keep_alive);
    conn.ExpireIn(options_.body_timeout_ms);
    std::array<asio::const_buffer, 2> first{asio::buffer(head), asio::buffer(head_only ? std::string_view() : res.body)};
    auto [ec, n] = co_await asio::async_write(conn.stream, first, kNoThrow);
    (void)n;
    if (chunked_body && !head_only && !ec) {
      std::string chunk(static_cast<size_t>(std::min<uint64_t>(kFileChunk, length)), '\0');
      for (uint64_t left = length; left > 0 && !ec;) {
        const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), left));
        size_t got = 0;
        if (file.is_open()) {
          got = file.read(chunk.data(), static_cast<std::streamsize>(want)) ? want : 0;
        } else {
          got = co_await asio::co_spawn(
              handler_pool_,
              [&]() -> asio::awaitable<size_t> {
                auto read = res.body_source(chunk.data(), want);
                co_return read.ok() ? *read : 0;
              },
              kAwait);
        }
        // Short of what the head promised (truncated on disk, the store failed): close.
        if (got == 0) co_return false;
        conn.ExpireIn(options_.body_timeout_ms);
        std::tie(ec, n) = co_await asio::async_write(conn.stream, asio::buffer(chunk.data(), got), kNoThrow);
        left -= got;
      }
    }
    co_return !ec && keep_alive;
  }

  // Sends a streamed body part by part. Between parts the connection has no deadline (the
  // stream decides when to end); each write has the body timeout, so a client that stops
  // reading is dropped. On shutdown the stream gets its farewell and ends cleanly.
  Awaitable<bool> WriteStream(Connection& conn, HttpResponse res, unsigned version, bool keep_alive) {
    const bool chunked = version >= 11;
    keep_alive = keep_alive && chunked;
    std::shared_ptr<BodyStream> stream = std::move(res.stream);
    const std::string head = ResponseHead(res, std::nullopt, version, keep_alive);
    auto send = [&](std::string_view bytes) -> Awaitable<bool> {
      std::string framed;
      if (chunked) {
        if (!bytes.empty()) framed = fmt::format("{:x}\r\n{}\r\n", bytes.size(), bytes);
      } else {
        framed = bytes;
      }
      if (framed.empty()) co_return true;
      conn.ExpireIn(options_.body_timeout_ms);
      auto [ec, n] = co_await asio::async_write(conn.stream, asio::buffer(framed), kNoThrow);
      (void)n;
      conn.deadline_ms = 0;
      co_return !ec;
    };
    conn.ExpireIn(options_.body_timeout_ms);
    auto [hec, hn] = co_await asio::async_write(conn.stream, asio::buffer(head), kNoThrow);
    (void)hn;
    if (hec) co_return false;
    conn.deadline_ms = 0;
    Timer timer(conn.stream.get_executor());
    int64_t last_sent = SteadyMs();
    for (;;) {
      if (stopping_) {
        if (!co_await send(stream->Farewell())) co_return false;
        break;
      }
      BodyStream::Part part = co_await asio::co_spawn(
          handler_pool_, [&stream]() -> asio::awaitable<BodyStream::Part> { co_return stream->Poll(); }, kAwait);
      if (!part.bytes.empty()) {
        if (!co_await send(part.bytes)) co_return false;
        last_sent = SteadyMs();
      }
      if (part.finished) break;
      if (SteadyMs() - last_sent >= stream->heartbeat_ms) {
        if (!co_await send(stream->Heartbeat())) co_return false;
        last_sent = SteadyMs();
      }
      // Waits in short steps so that a shutdown is noticed at once.
      for (int64_t until = SteadyMs() + stream->poll_ms; !stopping_ && SteadyMs() < until;) {
        timer.expires_after(std::chrono::milliseconds(std::min<int64_t>(until - SteadyMs(), 50)));
        co_await timer.async_wait(kNoThrow);
      }
    }
    if (chunked) {
      conn.ExpireIn(options_.body_timeout_ms);
      auto [ec, n] = co_await asio::async_write(conn.stream, asio::buffer(std::string_view("0\r\n\r\n")), kNoThrow);
      (void)n;
      co_return !ec && keep_alive && !stopping_;
    }
    co_return false;
  }

  // What the session learns about one request while it is handled.
  static std::optional<HttpResponse> ProtocolErrorAnswer(const beast::error_code& ec) {
    if (ec == http::error::header_limit) {
      return PlainError(431, "request_header_fields_too_large", "the request head is larger than 16 KiB");
    }
    if (ec.category() != http::make_error_code(http::error::bad_target).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
      return std::nullopt;
    }
    return PlainError(400, "bad_request", "malformed HTTP request: " + ec.message());
  }

  // Holds bytes of the body budget for one request, until it is answered.
  class BodyReservation {
   public:
    BodyReservation(std::atomic<size_t>& pool, size_t bytes) : pool_(pool), bytes_(bytes) { pool_ += bytes_; }
    ~BodyReservation() { pool_ -= bytes_; }
    BodyReservation(const BodyReservation&) = delete;
    BodyReservation& operator=(const BodyReservation&) = delete;
    size_t bytes() const { return bytes_; }

   private:
    std::atomic<size_t>& pool_;
    size_t bytes_;
  };

  struct Exchange {
    size_t route_index;  // the route's stats slot; the last slot counts unmatched requests
    bool keep_alive;
    bool abandoned = false;  // the body could not be read: nothing to answer
    bool head_only = false;  // a HEAD answered by the GET route: the head without the body
    std::string request_id = {};  // returned as X-Request-Id and logged
    std::string path = {};        // the target's path, for the access log
    std::string key_id = {};      // who called, once authenticated
  };

  Awaitable<HttpResponse> Handle(Connection& conn, beast::flat_buffer& buffer,
                                 http::request_parser<http::string_body>& parser, Exchange& ex) {
    auto& head = parser.get();
    auto url = boost::urls::parse_origin_form(head.target());
    if (!url) {
      ex.keep_alive = false;
      co_return PlainError(400, "invalid_request", "malformed request target");
    }
    ex.path = std::string(url->path());
    auto match = router_.Match(std::string(head.method_string()), ex.path);
    if (!match.route && head.method() == http::verb::head) {
      match = router_.Match("GET", ex.path);
      ex.head_only = match.route != nullptr;
    }
    if (!match.route) {
      // The body (if any) is not read; close so it is not parsed as the next request.
      ex.keep_alive = ex.keep_alive && parser.is_done();
      co_return match.path_matched ? PlainError(405, "method_not_allowed", "method not allowed")
                                   : PlainError(404, "not_found", "no such endpoint");
    }
    ex.route_index = static_cast<size_t>(match.route - router_.routes().data());
    const auto length = parser.content_length();
    size_t limit = match.route->body_limit ? match.route->body_limit : options_.body_limit;
    if (match.route->form_body_limit && IsMultipartFormData(std::string_view(head[http::field::content_type]))) {
      limit = match.route->form_body_limit;
    }
    auto too_large = [&] {
      ex.keep_alive = false;
      return match.route->render_error(
          MakeError(ErrorCode::kPayloadTooLarge, fmt::format("request body is larger than {} bytes", limit)));
    };
    if (length && *length > limit) co_return too_large();
    parser.body_limit(limit);
    // What this body may take (its length, or the route's limit when it is chunked) is held
    // from the budget of all bodies being read until the request has been handled.
    BodyReservation reserved(body_bytes_, parser.is_done() ? 0 : static_cast<size_t>(length ? *length : limit));
    if (reserved.bytes() > 0 && body_bytes_.load() > options_.body_budget) {
      ex.keep_alive = false;
      metrics_.Increment("wanserve_http_bodies_refused_total");
      Error busy = MakeError(ErrorCode::kUnavailable, "the server is reading too many request bodies; retry shortly");
      busy.retry_after_s = 1;
      co_return match.route->render_error(busy);
    }
    if (!parser.is_done()) {
      conn.ExpireIn(options_.body_timeout_ms);
      auto [ec, n] = co_await http::async_read(conn.stream, buffer, parser, kNoThrow);
      (void)n;
      if (ec == http::error::body_limit) co_return too_large();
      if (ec) {
        ex.abandoned = true;
        co_return HttpResponse{};
      }
    }
    conn.deadline_ms = 0;
    HttpRequest req = ToRequest(parser.get(), *url);
    req.body = std::move(parser.get().body());
    req.request_id = ex.request_id;
    if ((req.method == "GET" || req.method == "HEAD") && !match.route->blocking) {
      co_return Dispatch(match, req, ex.key_id);
    }
    // The handler runs on the pool; this session resumes on its io thread with the answer.
    co_return co_await asio::co_spawn(
        handler_pool_,
        [this, &match, &req, &ex]() -> asio::awaitable<HttpResponse> { co_return Dispatch(match, req, ex.key_id); },
        kAwait);
  }

  Awaitable<void> Session(IoThread& io, Socket socket, std::shared_ptr<asio::ssl::context> tls) {
    auto conn_it = io.connections.emplace(io.connections.end(), std::move(socket), std::move(tls));
    Connection& conn = *conn_it;
    ++open_connections_;
    struct Unlist {
      std::list<Connection>& list;
      std::list<Connection>::iterator it;
      std::atomic<int>& open;
      ~Unlist() {
        list.erase(it);
        --open;
      }
    } unlist{io.connections, conn_it, open_connections_};
    if (conn.stream.is_tls()) {
      // The handshake has the request head's time limit; a client that fails it (plain HTTP
      // to this port, an untrusted certificate) is counted and closed.
      conn.ExpireIn(options_.header_timeout_ms);
      auto [ec] = co_await conn.stream.tls().async_handshake(asio::ssl::stream_base::server, kNoThrow);
      if (ec) {
        metrics_.Increment("wanserve_http_tls_handshake_failures_total");
        beast::error_code ignored;
        conn.stream.socket().close(ignored);
        co_return;
      }
    }
    beast::flat_buffer buffer;
    for (bool first = true; !stopping_; first = false) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(16 * 1024);
      // The limit is applied once the route is known, so an oversize body can be refused in
      // the route's dialect (Beast would otherwise fail the header read itself).
      parser.body_limit(boost::none);
      conn.ExpireIn(first ? options_.header_timeout_ms : options_.idle_timeout_ms);
      auto [hec, hn] = co_await http::async_read_header(conn.stream, buffer, parser, kNoThrow);
      (void)hn;
      if (hec) {
        // A head that breaks HTTP gets an answer where HTTP allows one (the client may be a
        // proxy that wants to log why); a closed or silent connection just ends.
        if (auto answer = ProtocolErrorAnswer(hec)) {
          const std::string text = ResponseHead(*answer, answer->body.size(), 11, false) + answer->body;
          conn.ExpireIn(options_.body_timeout_ms);
          (void)co_await asio::async_write(conn.stream, asio::buffer(text), kNoThrow);
        }
        break;
      }
      in_flight_++;
      const auto started = std::chrono::steady_clock::now();
      const unsigned version = parser.get().version();
      Exchange ex{router_.routes().size(), parser.get().keep_alive()};
      ex.request_id = RequestIdFor(std::string_view(parser.get()["X-Request-Id"]));
      const std::string method(parser.get().method_string());
      HttpResponse res = co_await Handle(conn, buffer, parser, ex);
      if (ex.abandoned) {
        in_flight_--;
        break;
      }
      const int status = res.status;
      if (ex.head_only) res.stream.reset();
      const bool matched = ex.route_index < router_.routes().size();
      if (matched && router_.routes()[ex.route_index].echoes_request_id) EchoRequestId(res, ex.request_id);
      res.headers.emplace_back("X-Request-Id", ex.request_id);
      const bool again = co_await Write(conn, std::move(res), version, ex.keep_alive, ex.head_only);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      route_stats_[ex.route_index].Record(status, seconds);
      if (options_.access_log) {
        LogAccess({.request_id = ex.request_id,
                   .method = method,
                   .path = ex.path,
                   .route = matched ? std::string_view(router_.routes()[ex.route_index].pattern) : std::string_view(),
                   .status = status,
                   .seconds = seconds,
                   .key_id = ex.key_id,
                   .remote = conn.remote});
      }
      in_flight_--;
      if (!again) break;
    }
    co_await LingeringClose(conn);
  }

  // Closing a socket with unread request bytes makes the kernel send a reset, and the client
  // may lose the error response it has not read yet (a 413, say). So: send FIN, then drain
  // what the client still sends, for a bounded time and size.
  Awaitable<void> LingeringClose(Connection& conn) {
    beast::error_code ec;
    // Over TLS too the drain reads the TCP socket: the bytes are discarded unread, and no
    // close_notify is sent (every answer is framed by its length or its last chunk).
    Socket& socket = conn.stream.socket();
    socket.shutdown(tcp::socket::shutdown_send, ec);
    std::vector<char> sink(64 * 1024);
    size_t drained = 0;
    conn.ExpireIn(2000);
    while (drained < 16 * 1024 * 1024 && socket.is_open()) {
      auto [rec, n] = co_await socket.async_read_some(asio::buffer(sink), kNoThrow);
      if (rec) break;
      drained += n;
    }
    socket.close(ec);
  }

  ServerOptions options_;
  const Router& router_;
  const Authenticator& auth_;
  MetricsRegistry& metrics_;
  std::vector<std::unique_ptr<IoThread>> io_threads_;
  std::optional<Acceptor> acceptor_;
  std::unique_ptr<TlsContext> tls_;  // set when the listener speaks TLS
  asio::thread_pool handler_pool_{static_cast<size_t>(std::max(1, options_.handler_threads))};
  int sweep_ms_ = 250;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int> open_connections_{0};
  std::atomic<size_t> body_bytes_{0};  // reserved by the bodies being read and handled
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
