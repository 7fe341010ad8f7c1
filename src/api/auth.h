#pragma once
// API keys: random 32-byte secrets shown once, stored as SHA-256 hashes, and compared in
// constant time. Accepted as "Authorization: Bearer <key>" or "x-api-key: <key>".
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/http.h"
#include "common/clock.h"
#include "common/error.h"
#include "store/task_store.h"

namespace wanserve::api {

struct NewApiKey {
  store::ApiKey record;
  std::string secret;  // shown once, never stored
};

struct KeyLimits {
  int64_t rpm = 0;         // submits per minute, 0 = unlimited
  int64_t credit_cap = 0;  // 0 = no cap
};

Result<NewApiKey> CreateApiKey(store::KeyStore& keys, const std::string& name, const Clock& clock,
                               const std::string& account_id = store::kDefaultAccountId, KeyLimits limits = {});
// An operator's token for /admin/v1 ("wsa_…"); it cannot call the generation API.
Result<NewApiKey> CreateAdminToken(store::KeyStore& keys, const std::string& name, const Clock& clock);

struct Principal {
  std::string key_id;
  std::string account_id;
  bool admin = false;
};

class Authenticator {
 public:
  // Accepted keys are remembered for cache_ms (0 = always ask the store), so a revoked key
  // stops working within that time. Unknown keys are never cached.
  Authenticator(store::KeyStore& keys, std::shared_ptr<Clock> clock, int64_t cache_ms = 0)
      : keys_(keys), clock_(std::move(clock)), cache_ms_(cache_ms) {}
  // The caller's key and account; kUnauthorized when the key is missing, unknown or revoked.
  // Admin tokens are found the same way; Principal::admin tells them apart.
  Result<Principal> Authenticate(const HttpRequest& request) const;
  // Drops a key from the cache (it was revoked through this process), so it stops at once.
  void Forget(const std::string& key_id) const;

 private:
  struct Cached {
    Principal principal;
    int64_t until_ms;
  };
  store::KeyStore& keys_;
  std::shared_ptr<Clock> clock_;
  int64_t cache_ms_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Cached> cache_;  // by hash of the secret
};

}  // namespace wanserve::api
