// The HTTP server on real loopback sockets, driven byte by byte the way clients (and slow or
// hostile ones) drive it: keep-alive, pipelining, HTTP/1.0, streamed file bodies, and the
// header, body and idle timeouts.
#include "api/server.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/asio.hpp>
#include <atomic>
#include <chrono>
#include <fstream>

#include <fmt/format.h>
#include <mutex>
#include <thread>

#include "store/sqlite/sqlite_store.h"
#include "testing/temp_dir.h"

namespace wanserve::api {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Parts from a script, one per poll ("" = nothing new); finished after the last one unless it
// runs forever. Counts its polls.
class ScriptedStream : public BodyStream {
 public:
  ScriptedStream(std::vector<std::string> parts, bool forever) : parts_(std::move(parts)), forever_(forever) {
    poll_ms = 20;
    heartbeat_ms = 150;
  }
  Part Poll() override {
    const size_t i = polls++;
    if (i < parts_.size()) return {parts_[i], !forever_ && i + 1 == parts_.size()};
    return {forever_ ? std::string() : "", !forever_};
  }
  std::string Heartbeat() const override { return ":hb\n"; }
  std::string Farewell() const override { return "bye\n"; }
  std::atomic<size_t> polls{0};

 private:
  std::vector<std::string> parts_;
  bool forever_;
};

// The body of a chunked answer, its chunks joined; empty when the framing is wrong.
std::string Dechunk(std::string_view text, bool* complete) {
  std::string out;
  *complete = false;
  for (;;) {
    const size_t eol = text.find("\r\n");
    if (eol == std::string_view::npos) return out;
    const size_t size = std::stoul(std::string(text.substr(0, eol)), nullptr, 16);
    if (size == 0) {
      *complete = text.substr(eol, 4) == "\r\n\r\n";
      return out;
    }
    if (text.size() < eol + 2 + size + 2) return out;
    out.append(text.substr(eol + 2, size));
    text.remove_prefix(eol + 2 + size + 2);
  }
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options) {
    auto store = store::OpenSqliteStore({.path = (dir_.path() / "db").string()});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auth_ = std::make_unique<Authenticator>(*store_, MakeSystemClock());
    file_ = (dir_.path() / "blob").string();
    std::string bytes(700 * 1024 + 13, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 251);
    std::ofstream(file_, std::ios::binary) << bytes;
    blob_ = bytes;
    auto plain = [](const Error& e) { return HttpResponse::Json(400, e.message); };
    router_.Add({"GET", "/hello", Access::kPublic,
                 [](const HttpRequest&, const RequestContext&) { return HttpResponse::Json(200, R"({"hello":1})"); },
                 plain});
    router_.Add({"POST", "/echo", Access::kPublic,
                 [](const HttpRequest& r, const RequestContext&) { return HttpResponse::Text(200, r.body); }, plain});
    router_.Add({"GET", "/blob", Access::kPublic,
                 [this](const HttpRequest& r, const RequestContext&) {
                   HttpResponse res;
                   res.content_type = "application/octet-stream";
                   res.file_path = file_;
                   res.file_offset = r.Query("from") ? std::stoull(*r.Query("from")) : 0;
                   res.file_length = blob_.size() - res.file_offset;
                   return res;
                 },
                 plain});
    router_.Add({"POST", "/form", Access::kPublic,
                 [](const HttpRequest& r, const RequestContext&) { return HttpResponse::Text(200, r.body); }, plain,
                 16, 64});
    router_.Add({"GET", "/throws", Access::kPublic,
                 [](const HttpRequest&, const RequestContext&) -> HttpResponse {
                   return HttpResponse::Text(200, nlohmann::json::parse("{\"a\":5}")["a"].get<std::string>());
                 },
                 [](const Error& e) { return HttpResponse::Json(500, "{\"shape\":\"route\",\"why\":\"" + e.message + "\"}"); }});
    router_.Add({"GET", "/stream", Access::kPublic,
                 [this](const HttpRequest& r, const RequestContext&) {
                   HttpResponse res;
                   res.content_type = "text/event-stream";
                   auto stream = std::make_shared<ScriptedStream>(
                       std::vector<std::string>{"one\n", "", "", "", "", "", "", "", "", "", "", "", "two\n"},
                       r.Query("forever").has_value());
                   if (auto big = r.Query("big")) {
                     stream = std::make_shared<ScriptedStream>(
                         std::vector<std::string>(60, std::string(std::stoul(*big), 'x')), false);
                   }
                   {
                     std::lock_guard lock(stream_mu_);
                     stream_ = stream;
                   }
                   res.stream = std::move(stream);
                   return res;
                 },
                 plain});
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, router_, *auth_, metrics_);
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok());
    port_ = *port;
    server_->Run();
  }

  static ServerOptions Timeouts(int header_ms, int body_ms, int idle_ms) {
    ServerOptions o;
    o.header_timeout_ms = header_ms;
    o.body_timeout_ms = body_ms;
    o.idle_timeout_ms = idle_ms;
    return o;
  }

  tcp::socket Connect() {
    tcp::socket s(ioc_);
    s.connect({asio::ip::make_address("127.0.0.1"), port_});
    return s;
  }

  // Reads until the peer closes (or `timeout` passes); returns what arrived and whether the
  // connection was closed.
  std::pair<std::string, bool> ReadAll(tcp::socket& s, milliseconds timeout) {
    std::string got;
    const auto until = steady_clock::now() + timeout;
    s.non_blocking(true);
    char buf[65536];
    while (steady_clock::now() < until) {
      boost::system::error_code ec;
      const size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(milliseconds(2));
        continue;
      }
      if (ec) return {got, true};
      got.append(buf, n);
    }
    return {got, false};
  }

  // Milliseconds until the server closes a connection that stays as it is.
  int64_t MsUntilClosed(tcp::socket& s, steady_clock::time_point since) {
    auto [got, closed] = ReadAll(s, milliseconds(5000));
    EXPECT_TRUE(closed) << got;
    return std::chrono::duration_cast<milliseconds>(steady_clock::now() - since).count();
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Authenticator> auth_;
  MetricsRegistry metrics_;
  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::string file_;
  std::string blob_;
  // The stream of the latest /stream request once it is not `seen` (made on a server thread,
  // which a slow machine reaches late); null after 10 s.
  std::shared_ptr<ScriptedStream> StreamOtherThan(const std::shared_ptr<ScriptedStream>& seen) {
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard lock(stream_mu_);
        if (stream_ && stream_ != seen) return stream_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return nullptr;
  }
  std::mutex stream_mu_;
  std::shared_ptr<ScriptedStream> stream_;
  uint16_t port_ = 0;
  asio::io_context ioc_;
};

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(HttpServerTest, PipelinedRequestsOnOneConnectionAreAnsweredInOrder) {
  Start({});
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                                          "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde"
                                          "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  auto [got, closed] = ReadAll(s, milliseconds(3000));
  EXPECT_TRUE(closed);
  const size_t hello = got.find("HTTP/1.1 200 OK\r\n");
  const size_t echo = got.find("\r\n\r\nabcde");
  const size_t missing = got.find("HTTP/1.1 404 Not Found\r\n");
  ASSERT_NE(hello, std::string::npos) << got;
  ASSERT_NE(echo, std::string::npos) << got;
  ASSERT_NE(missing, std::string::npos) << got;
  EXPECT_LT(hello, echo);
  EXPECT_LT(echo, missing);
  EXPECT_NE(got.find(R"({"hello":1})"), std::string::npos);
  EXPECT_EQ(Count(got, "Date: "), 3u);
  EXPECT_EQ(Count(got, "Content-Length: "), 3u);
  EXPECT_EQ(Count(got, "Connection: close\r\n"), 1u) << "only the last answer announces the close";
}

TEST_F(HttpServerTest, Http10GetsOneAnswerAndACloseUnlessItAsksForKeepAlive) {
  Start({});
  auto once = Connect();
  asio::write(once, asio::buffer(std::string("GET /hello HTTP/1.0\r\n\r\n")));
  auto [got, closed] = ReadAll(once, milliseconds(3000));
  EXPECT_TRUE(closed);
  EXPECT_EQ(got.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << got;

  auto kept = Connect();
  asio::write(kept, asio::buffer(std::string("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")));
  auto [first, closed_after_first] = ReadAll(kept, milliseconds(300));
  EXPECT_FALSE(closed_after_first);
  EXPECT_NE(first.find("Connection: keep-alive\r\n"), std::string::npos) << first;
}

TEST_F(HttpServerTest, FileBodiesAreStreamedWholeAndFromAnOffset) {
  Start({});
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /blob HTTP/1.1\r\nHost: x\r\n\r\n"
                                          "GET /blob?from=1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  auto [got, closed] = ReadAll(s, milliseconds(5000));
  ASSERT_TRUE(closed);
  const size_t first_body = got.find("\r\n\r\n") + 4;
  ASSERT_GE(got.size(), first_body + blob_.size());
  EXPECT_TRUE(got.compare(first_body, blob_.size(), blob_) == 0);
  const std::string rest = got.substr(first_body + blob_.size());
  EXPECT_NE(rest.find("Content-Length: " + std::to_string(blob_.size() - 1000) + "\r\n"), std::string::npos);
  const size_t second_body = rest.find("\r\n\r\n") + 4;
  EXPECT_EQ(rest.substr(second_body), blob_.substr(1000));
}

TEST_F(HttpServerTest, AClientThatSendsNoRequestIsClosedAtTheHeaderTimeout) {
  Start(Timeouts(400, 5000, 5000));
  const auto since = steady_clock::now();
  auto s = Connect();
  const int64_t ms = MsUntilClosed(s, since);
  EXPECT_GE(ms, 400);
  EXPECT_LT(ms, 1500);
}

TEST_F(HttpServerTest, AHeadSentByteByByteCannotOutliveTheHeaderTimeout) {
  Start(Timeouts(500, 5000, 5000));
  const auto since = steady_clock::now();
  auto s = Connect();
  const std::string head = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
  bool refused = false;
  for (char c : head) {
    boost::system::error_code ec;
    asio::write(s, asio::buffer(&c, 1), ec);
    if (ec) {
      refused = true;
      break;
    }
    if (steady_clock::now() - since > milliseconds(3000)) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  const int64_t ms = refused ? std::chrono::duration_cast<milliseconds>(steady_clock::now() - since).count()
                             : MsUntilClosed(s, since);
  EXPECT_GE(ms, 500);
  EXPECT_LT(ms, 1500);
}

TEST_F(HttpServerTest, AStalledBodyIsCutAtTheBodyTimeoutAndAnIdleConnectionAtTheIdleTimeout) {
  Start(Timeouts(5000, 400, 700));
  auto stalled = Connect();
  const auto body_since = steady_clock::now();
  asio::write(stalled, asio::buffer(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab")));
  const int64_t body_ms = MsUntilClosed(stalled, body_since);
  EXPECT_GE(body_ms, 400);
  EXPECT_LT(body_ms, 1500);

  auto idle = Connect();
  asio::write(idle, asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")));
  auto [answer, closed_early] = ReadAll(idle, milliseconds(200));
  EXPECT_FALSE(closed_early);
  EXPECT_NE(answer.find("200 OK"), std::string::npos);
  const auto idle_since = steady_clock::now() - milliseconds(200);
  const int64_t idle_ms = MsUntilClosed(idle, idle_since);
  EXPECT_GE(idle_ms, 650);
  EXPECT_LT(idle_ms, 2000);
}

TEST_F(HttpServerTest, AMultipartBodyMayBeAsLargeAsTheRoutesFormLimit) {
  Start({});
  auto post = [&](const std::string& type, size_t size) {
    auto s = Connect();
    asio::write(s, asio::buffer(fmt::format("POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: {}\r\n"
                                            "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                                            type, size, std::string(size, 'a'))));
    auto [got, closed] = ReadAll(s, milliseconds(3000));
    return got;
  };
  // The route's error renderer answers every error with 400 and the message.
  EXPECT_TRUE(post("application/json", 16).starts_with("HTTP/1.1 200 OK"));
  EXPECT_TRUE(post("application/json", 17).ends_with("request body is larger than 16 bytes"));
  EXPECT_TRUE(post("multipart/form-data; boundary=b", 64).starts_with("HTTP/1.1 200 OK"));
  EXPECT_TRUE(post("Multipart/Form-Data; boundary=b", 65).ends_with("request body is larger than 64 bytes"));
}

TEST_F(HttpServerTest, AStreamIsSentChunkedWithHeartbeatsAndTheConnectionLivesOn) {
  Start({});
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
                                          "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  auto [got, closed] = ReadAll(s, milliseconds(5000));
  ASSERT_TRUE(closed);
  const size_t body = got.find("\r\n\r\n") + 4;
  const std::string head = got.substr(0, body);
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream\r\n"), std::string::npos) << head;
  bool complete = false;
  const std::string events = Dechunk(std::string_view(got).substr(body), &complete);
  EXPECT_TRUE(complete) << got;
  EXPECT_TRUE(events.starts_with("one\n")) << events;
  EXPECT_TRUE(events.ends_with("two\n")) << events;
  EXPECT_GE(Count(events, ":hb\n"), 1u) << "eleven empty polls of 20 ms pass the 150 ms heartbeat";
  EXPECT_NE(got.find(R"({"hello":1})"), std::string::npos) << "the next request on the connection is answered";
}

TEST_F(HttpServerTest, AnHttp10StreamEndsByClosingTheConnection) {
  Start({});
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")));
  auto [got, closed] = ReadAll(s, milliseconds(5000));
  ASSERT_TRUE(closed);
  EXPECT_EQ(got.find("Transfer-Encoding"), std::string::npos) << got;
  EXPECT_TRUE(got.ends_with("two\n")) << got;
}

TEST_F(HttpServerTest, ShutdownEndsAStreamWithItsFarewellAtOnce) {
  ServerOptions options;
  options.shutdown_grace_ms = 10'000;
  Start(options);
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /stream?forever HTTP/1.1\r\nHost: x\r\n\r\n")));
  auto [started, closed_early] = ReadAll(s, milliseconds(300));
  ASSERT_FALSE(closed_early);
  ASSERT_NE(started.find("one\n"), std::string::npos) << started;
  const auto since = steady_clock::now();
  std::thread stop([&] { server_->Shutdown(); });
  auto [rest, closed] = ReadAll(s, milliseconds(5000));
  stop.join();
  EXPECT_TRUE(closed);
  EXPECT_LT(steady_clock::now() - since, milliseconds(2000)) << "not the 10 s grace period";
  bool complete = false;
  const std::string events = Dechunk(std::string_view(started + rest).substr(started.find("\r\n\r\n") + 4), &complete);
  EXPECT_TRUE(complete) << rest;
  EXPECT_TRUE(events.ends_with("bye\n")) << events;
}

TEST_F(HttpServerTest, AStreamWaitsForASlowReaderAndDropsOneThatStopsReading) {
  Start(Timeouts(5000, 600, 5000));
  // 60 parts of 128 KiB: far more than the socket buffers hold. A reader that pauses gets every
  // part once it reads again; the stream is not polled ahead of what was written.
  auto slow = Connect();
  asio::write(slow, asio::buffer(std::string("GET /stream?big=131072 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  std::this_thread::sleep_for(milliseconds(300));
  const auto first = StreamOtherThan(nullptr);
  ASSERT_TRUE(first);
  EXPECT_LT(first->polls.load(), 60u);
  auto [got, closed] = ReadAll(slow, milliseconds(10000));
  EXPECT_TRUE(closed);
  bool complete = false;
  EXPECT_EQ(Dechunk(std::string_view(got).substr(got.find("\r\n\r\n") + 4), &complete).size(), 60u * 131072u);
  EXPECT_TRUE(complete);

  auto gone = Connect();
  asio::write(gone, asio::buffer(std::string("GET /stream?big=131072 HTTP/1.1\r\nHost: x\r\n\r\n")));
  const auto second = StreamOtherThan(first);
  ASSERT_TRUE(second);
  // The writes time out after 0.6 s and the stream is no longer polled (within 1.5 s here;
  // a sanitizer build may take longer to get there, not forever).
  std::this_thread::sleep_for(milliseconds(1500));
  size_t polls = second->polls.load();
  bool stopped = false;
  for (int i = 0; i < 30 && !stopped; ++i) {
    std::this_thread::sleep_for(milliseconds(300));
    const size_t now = second->polls.load();
    stopped = now == polls;
    polls = now;
  }
  EXPECT_TRUE(stopped) << "the stream stopped once its writes timed out";
  EXPECT_LT(polls, 60u);
  auto again = Connect();
  asio::write(again, asio::buffer(std::string("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
  auto [hello, hello_closed] = ReadAll(again, milliseconds(3000));
  EXPECT_NE(hello.find("200 OK"), std::string::npos);
}

TEST_F(HttpServerTest, ProtocolGarbageIsAnswered400Or431NotJustClosed) {
  Start({});
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n", "HTTP/1.1 431 "},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/1.1 400 "},
      {std::string("GET /hello HTTP/1.1\r\nHost: x\r\nX-Nul: a") + '\0' + "b\r\n\r\n", "HTTP/1.1 400 "},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde", "HTTP/1.1 400 "},
  };
  for (const auto& [request, status] : cases) {
    auto s = Connect();
    asio::write(s, asio::buffer(request));
    auto [got, closed] = ReadAll(s, milliseconds(3000));
    EXPECT_TRUE(got.starts_with(status)) << request.substr(0, 40) << " -> " << got.substr(0, 80);
    EXPECT_TRUE(closed);
  }
}

TEST_F(HttpServerTest, ConnectionsOverTheCapAreClosedAtOnceAndBodiesOverTheBudgetGet503) {
  ServerOptions options;
  options.max_connections = 2;
  options.body_budget = 4096;
  Start(options);
  auto first = Connect();
  auto second = Connect();
  std::this_thread::sleep_for(milliseconds(200));  // both accepted and counted
  auto third = Connect();
  auto [nothing, closed] = ReadAll(third, milliseconds(2000));
  EXPECT_TRUE(closed) << "over the cap";
  EXPECT_EQ(metrics_.Value("wanserve_http_connections_refused_total", {}), 1);
  // A body that would take the budget past its 4 KiB is refused before it is read; one within
  // it is served, on a connection that was within the cap.
  asio::write(first, asio::buffer(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")));
  auto [busy, busy_closed] = ReadAll(first, milliseconds(3000));
  // In the route's own error shape (this test's routes answer every error as a 400 text).
  EXPECT_NE(busy.find("too many request bodies"), std::string::npos) << busy;
  EXPECT_EQ(metrics_.Value("wanserve_http_bodies_refused_total", {}), 1);
  asio::write(second, asio::buffer(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                               "Connection: close\r\n\r\nabcde")));
  auto [echo, echo_closed] = ReadAll(second, milliseconds(3000));
  EXPECT_TRUE(echo.starts_with("HTTP/1.1 200 ")) << echo;
}

TEST_F(HttpServerTest, AHandlerThatThrowsIsAnswered500InTheRoutesShapeLoggedAndCounted) {
  Start({});
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /throws HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\n"
                                          "Host: x\r\nConnection: close\r\n\r\n")));
  auto [got, closed] = ReadAll(s, milliseconds(3000));
  EXPECT_TRUE(got.starts_with("HTTP/1.1 500 ")) << got;
  EXPECT_NE(got.find(R"("shape":"route")"), std::string::npos) << got;
  EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos) << "the connection lives on: " << got;
  EXPECT_EQ(metrics_.Value("wanserve_http_handler_failures_total", {}), 1);
}

}  // namespace
}  // namespace wanserve::api
