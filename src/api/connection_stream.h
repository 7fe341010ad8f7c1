#pragma once
// A connection's bytes: the TCP socket itself, or TLS over it. One type for both, so the server's
// session reads and writes through the same code whichever a listener speaks. Internal to
// src/api (it names Asio types).
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <memory>
#include <optional>

namespace wanserve::api::detail {

using Executor = boost::asio::io_context::executor_type;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;

class ConnectionStream {
 public:
  using executor_type = Executor;

  // Plain TCP.
  explicit ConnectionStream(Socket socket) : plain_(std::move(socket)) {}
  // TLS with `context` (kept alive by the connection; the handshake is the caller's first step).
  ConnectionStream(Socket socket, std::shared_ptr<boost::asio::ssl::context> context)
      : context_(std::move(context)), tls_(std::in_place, std::move(socket), *context_) {}

  executor_type get_executor() { return socket().get_executor(); }
  bool is_tls() const { return tls_.has_value(); }
  // The TCP socket under it: for addresses, deadlines' closes and the lingering close.
  Socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  const Socket& socket() const { return tls_ ? tls_->next_layer() : *plain_; }
  boost::asio::ssl::stream<Socket>& tls() { return *tls_; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (tls_) {
            tls_->async_read_some(b, std::move(handler));
          } else {
            plain_->async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (tls_) {
            tls_->async_write_some(b, std::move(handler));
          } else {
            plain_->async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

 private:
  std::optional<Socket> plain_;
  std::shared_ptr<boost::asio::ssl::context> context_;
  std::optional<boost::asio::ssl::stream<Socket>> tls_;
};

}  // namespace wanserve::api::detail
