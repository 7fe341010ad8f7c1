#include "api/tls_context.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace wanserve::api {

namespace ssl = boost::asio::ssl;

Result<std::unique_ptr<TlsContext>> TlsContext::Load(const std::string& cert_file, const std::string& key_file) {
  std::unique_ptr<TlsContext> tls(new TlsContext(cert_file, key_file));
  tls->stamp_ = tls->Stamp();
  ASSIGN_OR_RETURN(tls->current_, tls->Make());
  tls->checked_ = std::chrono::steady_clock::now();
  return tls;
}

Result<std::shared_ptr<ssl::context>> TlsContext::Make() const {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  // TLS 1.2 and 1.3 only, OpenSSL's default cipher suites; the server's preference decides.
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use |
                           SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION,
                       ec);
  context->use_certificate_chain_file(cert_file_, ec);
  if (ec) return MakeError(ErrorCode::kInvalidInput, "tls.cert " + cert_file_ + ": " + ec.message());
  // OpenSSL refuses a key that is not the certificate's here ("key values mismatch").
  context->use_private_key_file(key_file_, ssl::context::pem, ec);
  if (ec) return MakeError(ErrorCode::kInvalidInput, "tls.key " + key_file_ + ": " + ec.message());
  return context;
}

std::filesystem::file_time_type TlsContext::Stamp() const {
  std::error_code ec1, ec2;
  return std::max(std::filesystem::last_write_time(cert_file_, ec1), std::filesystem::last_write_time(key_file_, ec2));
}

std::shared_ptr<ssl::context> TlsContext::Current(std::chrono::milliseconds recheck) {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - checked_ < recheck) return current_;
  checked_ = now;
  const auto stamp = Stamp();
  if (stamp == stamp_) return current_;
  auto made = Make();
  if (!made.ok()) {
    // Often a renewal caught between writing the certificate and the key: the next check
    // sees the finished pair.
    spdlog::warn("TLS files changed but cannot be used yet, still serving the previous certificate: {}",
                 made.error().message);
    return current_;
  }
  stamp_ = stamp;
  current_ = std::move(*made);
  spdlog::info("TLS certificate reloaded from {}", cert_file_);
  return current_;
}

}  // namespace wanserve::api
