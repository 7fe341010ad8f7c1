#include "media/url_signer.h"

#include <charconv>

#include "common/crypto.h"

namespace wanserve::media {

std::string UrlSigner::Signature(std::string_view blob_id, int64_t exp) const {
  return HexEncode(HmacSha256(secret_, std::string(blob_id) + "." + std::to_string(exp)));
}

std::string UrlSigner::PolicySignature(std::string_view policy_base64) const {
  const std::vector<uint8_t> key = HmacSha256(secret_, "oss-post-policy");
  return Base64Encode(HmacSha1(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), policy_base64));
}

std::string UrlSigner::SignedPath(std::string_view blob_id, int64_t exp) const {
  return "/files/" + std::string(blob_id) + "?exp=" + std::to_string(exp) +
         "&sig=" + Signature(blob_id, exp);
}

Status UrlSigner::Verify(std::string_view blob_id, std::string_view exp_text, std::string_view sig,
                         int64_t now) const {
  int64_t exp = 0;
  auto [ptr, ec] = std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  if (ec != std::errc() || ptr != exp_text.data() + exp_text.size()) {
    return MakeError(ErrorCode::kForbidden, "invalid link signature");
  }
  if (!ConstantTimeEquals(Signature(blob_id, exp), sig)) {
    return MakeError(ErrorCode::kForbidden, "invalid link signature");
  }
  if (exp < now) return MakeError(ErrorCode::kForbidden, "link expired");
  return Status::Ok();
}

Result<std::string> UrlSigner::VerifyPath(std::string_view path, int64_t now) const {
  constexpr std::string_view kPrefix = "/files/";
  if (!path.starts_with(kPrefix)) return MakeError(ErrorCode::kForbidden, "not a signed file link");
  path.remove_prefix(kPrefix.size());
  const auto q = path.find('?');
  const std::string_view blob = path.substr(0, q);
  std::string_view exp, sig;
  std::string_view query = q == std::string_view::npos ? std::string_view() : path.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.starts_with("exp=")) exp = pair.substr(4);
    if (pair.starts_with("sig=")) sig = pair.substr(4);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  RETURN_IF_ERROR(Verify(blob, exp, sig, now));
  return std::string(blob);
}

}  // namespace wanserve::media
