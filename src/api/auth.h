#pragma once
// API keys: random 32-byte secrets shown once, stored as SHA-256 hashes, and compared in
// constant time. Accepted as "Authorization: Bearer <key>" or "x-api-key: <key>".
#include <memory>
#include <string>

#include "api/http.h"
#include "common/clock.h"
#include "common/error.h"
#include "store/task_store.h"

namespace wanserve::api {

struct NewApiKey {
  store::ApiKey record;
  std::string secret;  // shown once, never stored
};

Result<NewApiKey> CreateApiKey(store::KeyStore& keys, const std::string& name, const Clock& clock);

class Authenticator {
 public:
  explicit Authenticator(store::KeyStore& keys) : keys_(keys) {}
  // The key id of the caller; kUnauthorized when the key is missing, unknown or revoked.
  Result<std::string> Authenticate(const HttpRequest& request) const;

 private:
  store::KeyStore& keys_;
};

}  // namespace wanserve::api
