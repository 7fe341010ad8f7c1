#pragma once
// A small HTTP/1.1 server on real sockets for tests: plain or HTTPS (with a TestPki), answers
// each request from a script and records what it received, including the connections it
// accepted (so a test can prove that none was made).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/test_pki.h"

namespace wanserve::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int64_t received_ms = 0;  // steady clock
};

struct ScriptedResponse {
  ScriptedResponse() = default;
  ScriptedResponse(int status_code, std::vector<std::pair<std::string, std::string>> response_headers = {},
                   std::string response_body = {}, int delay = 0)
      : status(status_code), headers(std::move(response_headers)), body(std::move(response_body)), delay_ms(delay) {}
  static ScriptedResponse Raw(std::string bytes) {
    ScriptedResponse r;
    r.raw = std::move(bytes);
    return r;
  }

  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int delay_ms = 0;  // wait before answering
  // When set, replaces the whole answer with these raw bytes (lying headers, truncation).
  std::string raw;
};

// index counts requests from 0.
using Responder = std::function<ScriptedResponse(const ReceivedRequest& request, int index)>;

class LoopbackHttpServer {
 public:
  // bind: "127.0.0.1", or "::" to listen on every loopback address (IPv4 and IPv6).
  explicit LoopbackHttpServer(Responder responder, const TestPki* tls = nullptr, const std::string& bind = "127.0.0.1");
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  int port() const { return port_; }
  // "https://127.0.0.1:<port><path>" (or http).
  std::string Url(const std::string& path) const;
  std::vector<ReceivedRequest> Requests() const;
  int Connections() const { return connections_.load(); }
  // Waits until at least n requests arrived; false on timeout.
  bool WaitForRequests(size_t n, int timeout_ms) const;

 private:
  void AcceptLoop();
  void Serve(int fd);

  Responder responder_;
  void* ssl_ctx_ = nullptr;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  std::vector<std::thread> handlers_;
  std::thread acceptor_;
};

}  // namespace wanserve::testing
