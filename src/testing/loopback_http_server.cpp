#include "testing/loopback_http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <stdexcept>

namespace wanserve::testing {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Reads and writes either through TLS or the plain socket.
class Channel {
 public:
  Channel(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  long Read(char* buf, size_t n) { return ssl_ ? SSL_read(ssl_, buf, static_cast<int>(n)) : ::read(fd_, buf, n); }
  void Write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      long w = ssl_ ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
                    : ::write(fd_, data.data() + done, data.size() - done);
      if (w <= 0) return;
      done += static_cast<size_t>(w);
    }
  }

 private:
  int fd_;
  SSL* ssl_;
};

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses one request from the channel; false when the peer closed or sent garbage.
bool ReadRequest(Channel& channel, ReceivedRequest& out) {
  std::string data;
  char buf[16384];
  size_t header_end;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    long n = channel.Read(buf, sizeof(buf));
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
  }
  std::string head = data.substr(0, header_end);
  std::string rest = data.substr(header_end + 4);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
  out.method = request_line.substr(0, sp1);
  out.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      out.headers[Lower(line.substr(0, colon))] = value;
    }
    pos = end + 2;
  }
  size_t length = 0;
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) length = std::stoul(it->second);
  while (rest.size() < length) {
    long n = channel.Read(buf, sizeof(buf));
    if (n <= 0) return false;
    rest.append(buf, static_cast<size_t>(n));
  }
  out.body = rest.substr(0, length);
  out.received_ms = SteadyMs();
  return true;
}

std::string Render(const ScriptedResponse& r) {
  if (!r.raw.empty()) return r.raw;
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " Scripted\r\n";
  bool has_length = false;
  for (const auto& [name, value] : r.headers) {
    out += name + ": " + value + "\r\n";
    has_length = has_length || Lower(name) == "content-length";
  }
  if (!has_length) out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n" + r.body;
  return out;
}

}  // namespace

LoopbackHttpServer::LoopbackHttpServer(Responder responder, const TestPki* tls, const std::string& bind)
    : responder_(std::move(responder)) {
  // Clients in these tests hang up on purpose (timeouts, kill -9); writing to them then must
  // not kill the test process.
  std::signal(SIGPIPE, SIG_IGN);
  if (tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_file(ctx, tls->cert_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      SSL_CTX_free(ctx);
      throw std::runtime_error("LoopbackHttpServer: cannot load the test certificate");
    }
    ssl_ctx_ = ctx;
  }
  const bool v6 = bind.find(':') != std::string::npos;
  listen_fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  int rc;
  if (v6) {
    int zero = 0;
    setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    inet_pton(AF_INET6, bind.c_str(), &addr.sin6_addr);
    rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, bind.c_str(), &addr.sin_addr);
    rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  if (rc != 0 || listen(listen_fd_, 64) != 0) throw std::runtime_error("LoopbackHttpServer: cannot listen on " + bind);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (pipe2(wake_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("LoopbackHttpServer: pipe");
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  [[maybe_unused]] auto w = ::write(wake_pipe_[1], "x", 1);
  acceptor_.join();
  for (auto& t : handlers_) t.join();
  close(listen_fd_);
  close(wake_pipe_[0]);
  close(wake_pipe_[1]);
  if (ssl_ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ssl_ctx_));
}

std::string LoopbackHttpServer::Url(const std::string& path) const {
  return std::string(ssl_ctx_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedRequest> LoopbackHttpServer::Requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

bool LoopbackHttpServer::WaitForRequests(size_t n, int timeout_ms) const {
  const int64_t deadline = SteadyMs() + timeout_ms;
  while (SteadyMs() < deadline) {
    {
      std::lock_guard lock(mu_);
      if (requests_.size() >= n) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void LoopbackHttpServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections_++;
    handlers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void LoopbackHttpServer::Serve(int fd) {
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  SSL* ssl = nullptr;
  if (ssl_ctx_) {
    ssl = SSL_new(static_cast<SSL_CTX*>(ssl_ctx_));
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) != 1) {
      SSL_free(ssl);
      close(fd);
      return;
    }
  }
  Channel channel(fd, ssl);
  ReceivedRequest request;
  if (ReadRequest(channel, request)) {
    int index;
    {
      std::lock_guard lock(mu_);
      index = static_cast<int>(requests_.size());
      requests_.push_back(request);
    }
    ScriptedResponse response = responder_(request, index);
    if (response.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(response.delay_ms));
    channel.Write(Render(response));
  }
  if (ssl) {
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
  close(fd);
}

}  // namespace wanserve::testing
