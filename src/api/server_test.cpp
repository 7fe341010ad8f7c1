// The HTTP server on real loopback sockets, driven byte by byte the way clients (and slow or
// hostile ones) drive it: keep-alive, pipelining, HTTP/1.0, streamed file bodies, and the
// header, body and idle timeouts.
#include "api/server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "testing/temp_dir.h"

namespace wanserve::api {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

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

}  // namespace
}  // namespace wanserve::api
