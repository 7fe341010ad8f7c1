#include "api/auth.h"

#include "common/crypto.h"

namespace wanserve::api {

namespace {

Result<NewApiKey> InsertNewKey(store::KeyStore& keys, store::ApiKey record, std::string_view secret_prefix,
                               const Clock& clock) {
  NewApiKey k;
  k.secret = std::string(secret_prefix) + Base64UrlEncode(RandomBytes(32));
  k.record = std::move(record);
  k.record.id = "key_" + RandomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
  k.record.hash = Sha256Hex(k.secret);
  k.record.prefix = k.secret.substr(0, secret_prefix.size() + 4);
  k.record.created_ms = clock.NowMs();
  RETURN_IF_ERROR(keys.InsertKey(k.record));
  return k;
}

}  // namespace

Result<NewApiKey> CreateApiKey(store::KeyStore& keys, const std::string& name, const Clock& clock,
                               const std::string& account_id, KeyLimits limits) {
  store::ApiKey record;
  record.name = name;
  record.account_id = account_id;
  record.rpm_limit = limits.rpm;
  record.credit_cap = limits.credit_cap;
  return InsertNewKey(keys, std::move(record), "ws_", clock);
}

Result<NewApiKey> CreateAdminToken(store::KeyStore& keys, const std::string& name, const Clock& clock) {
  store::ApiKey record;
  record.name = name;
  record.admin = true;
  return InsertNewKey(keys, std::move(record), "wsa_", clock);
}

Result<Principal> Authenticator::Authenticate(const HttpRequest& request) const {
  std::string presented;
  if (auto auth = request.Header("authorization")) {
    constexpr std::string_view kBearer = "bearer ";
    if (auth->size() > kBearer.size()) {
      std::string scheme = auth->substr(0, kBearer.size());
      for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (scheme == kBearer) presented = auth->substr(kBearer.size());
    }
  }
  if (presented.empty()) {
    if (auto key = request.Header("x-api-key")) presented = *key;
  }
  while (!presented.empty() && presented.back() == ' ') presented.pop_back();
  if (presented.empty()) return MakeError(ErrorCode::kUnauthorized, "missing API key");
  // The lookup is by hash, so timing reveals nothing about stored secrets; the final compare
  // of the hashes is constant-time as well.
  const std::string hash = Sha256Hex(presented);
  const int64_t now = clock_->NowMs();
  if (cache_ms_ > 0) {
    std::lock_guard lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.until_ms > now) return it->second.principal;
  }
  auto key = keys_.FindActiveKeyByHash(hash);
  if (!key.ok()) {
    if (key.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kUnauthorized, "invalid API key");
    }
    return key.error();
  }
  if (!ConstantTimeEquals(key->hash, hash)) return MakeError(ErrorCode::kUnauthorized, "invalid API key");
  if (cache_ms_ > 0) {
    std::lock_guard lock(mu_);
    // Bounded: a flood of distinct valid keys cannot grow it without limit.
    if (cache_.size() > 10'000) cache_.clear();
    cache_[hash] = {{key->id, key->account_id, key->admin}, now + cache_ms_};
  }
  return Principal{key->id, key->account_id, key->admin};
}

void Authenticator::Forget(const std::string& key_id) const {
  std::lock_guard lock(mu_);
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.principal.key_id == key_id; });
}

}  // namespace wanserve::api
