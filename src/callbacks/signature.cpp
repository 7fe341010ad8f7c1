#include "callbacks/signature.h"

#include <charconv>
#include <cstdlib>

#include "common/crypto.h"

namespace wanserve::callbacks {
namespace {

std::optional<std::string> Key(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (!secret.starts_with(kPrefix)) return std::nullopt;
  auto bytes = Base64Decode(secret.substr(kPrefix.size()));
  if (!bytes || bytes->empty()) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

std::optional<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                                    int64_t timestamp_s, std::string_view body) {
  auto key = Key(secret);
  if (!key) return std::nullopt;
  std::string content = std::string(id) + "." + std::to_string(timestamp_s) + "." + std::string(body);
  return "v1," + Base64Encode(HmacSha256(*key, content));
}

std::optional<std::string> KieSignature(std::string_view secret, std::string_view task_id, int64_t timestamp_s) {
  auto key = Key(secret);
  if (!key) return std::nullopt;
  return Base64Encode(HmacSha256(*key, std::string(task_id) + "." + std::to_string(timestamp_s)));
}

bool VerifyStandardWebhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signature_header, int64_t now_s,
                           int64_t tolerance_s) {
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
  if (ec != std::errc() || end != timestamp.data() + timestamp.size()) return false;
  if (std::llabs(now_s - ts) > tolerance_s) return false;
  auto expected = StandardWebhookSignature(secret, id, ts, body);
  if (!expected) return false;
  bool match = false;
  while (!signature_header.empty()) {
    auto space = signature_header.find(' ');
    match |= ConstantTimeEquals(signature_header.substr(0, space), *expected);
    if (space == std::string_view::npos) break;
    signature_header.remove_prefix(space + 1);
  }
  return match;
}

}  // namespace wanserve::callbacks
