#pragma once
// HTTP/1.1 server with keep-alive on Boost.Beast/Asio, one io thread per core. GET requests
// (served from caches and read-only connections) are handled on the io threads; other methods
// write to the store and may wait for its writer, so they run on a pool of handler threads
// where they cannot stall the connections of an io thread, and where concurrent submits can
// share a commit.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/auth.h"
#include "api/router.h"
#include "common/metrics.h"

namespace wanserve::api {

struct ServerOptions {
  std::string host = "127.0.0.1";   // Default: loopback only
  uint16_t port = 8080;             // Default: 8080; 0 picks a free port
  int io_threads = 0;               // Default: 0 = one per core
  int handler_threads = 16;         // Default: 16 non-GET requests handled at once
  size_t body_limit = 1 << 20;      // Default: 1 MiB; larger bodies get 413
  int header_timeout_ms = 10'000;   // Default: 10 s to send the request head
  int body_timeout_ms = 60'000;     // Default: 60 s to send the body
  int idle_timeout_ms = 60'000;     // Default: 60 s between requests on a keep-alive connection
  int shutdown_grace_ms = 15'000;   // Default: 15 s for in-flight requests on SIGTERM
  int max_connections = 10'000;     // Default: 10,000 open at once; more are closed at accept
  // Default: 256 MiB for the bodies of all requests being read at once; a request whose body
  // would go over it gets 503 with Retry-After instead of memory.
  size_t body_budget = size_t{256} << 20;
  bool access_log = true;  // Default: one JSON line per answered request, at info level
  // PEM certificate chain and private key: the listener speaks HTTPS (TLS 1.2 and 1.3), and
  // reloads the pair when the files change. Default: none, plain HTTP.
  std::string tls_cert_file = {};
  std::string tls_key_file = {};
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, const Router& router, const Authenticator& auth,
             MetricsRegistry& metrics);
  ~HttpServer();

  // Binds the listening socket; returns the bound port (useful with port 0).
  Result<uint16_t> Bind();
  // Starts accepting and serving on the io threads.
  void Run();
  // Stops accepting, waits for in-flight requests (up to the grace period), then stops.
  void Shutdown();
  // Blocks until Shutdown() completed.
  void Wait();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wanserve::api
