#pragma once
// The server's TLS settings: a certificate chain and key in PEM files, loaded at start (a bad
// file is a start-up error) and loaded again when either file changes, so a renewed
// certificate (certbot, cert-manager) is served to new connections without a restart.
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "common/error.h"

namespace wanserve::api {

class TlsContext {
 public:
  // kInvalidInput naming the file that could not be used.
  static Result<std::unique_ptr<TlsContext>> Load(const std::string& cert_file, const std::string& key_file);

  // The context for a new connection. Checks the files' modification times at most every
  // `recheck`; a changed pair that fails to load keeps the previous context (and logs why).
  std::shared_ptr<boost::asio::ssl::context> Current(std::chrono::milliseconds recheck = std::chrono::seconds(10));

 private:
  TlsContext(std::string cert_file, std::string key_file) : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}
  Result<std::shared_ptr<boost::asio::ssl::context>> Make() const;
  std::filesystem::file_time_type Stamp() const;

  std::string cert_file_, key_file_;
  std::mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_;
  std::filesystem::file_time_type stamp_;
  std::chrono::steady_clock::time_point checked_;
};

}  // namespace wanserve::api
