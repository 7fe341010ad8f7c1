#include "media/url_signer.h"

#include <charconv>

#include "common/crypto.h"

namespace wanserve::media {

std::string UrlSigner::Signature(std::string_view blob_id, int64_t exp) const {
  return HexEncode(HmacSha256(secret_, std::string(blob_id) + "." + std::to_string(exp)));
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

}  // namespace wanserve::media
