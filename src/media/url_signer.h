#pragma once
// Signed, expiring download links: /files/<blob>?exp=<unix seconds>&sig=<hex HMAC-SHA256>.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wanserve::media {

class UrlSigner {
 public:
  explicit UrlSigner(std::string secret) : secret_(std::move(secret)) {}

  // Path and query, to be appended to the server's public base URL.
  std::string SignedPath(std::string_view blob_id, int64_t expires_unix_s) const;
  // The inverse of SignedPath: the blob id of "/files/<blob>?exp=…&sig=…", or kForbidden when
  // the path is not one, or its signature is wrong or expired.
  Result<std::string> VerifyPath(std::string_view path_and_query, int64_t now_unix_s) const;
  // kForbidden for a wrong signature or one that expired before now.
  Status Verify(std::string_view blob_id, std::string_view exp, std::string_view sig,
                int64_t now_unix_s) const;
  // Base64 HMAC-SHA1 of an OSS-style POST policy, under a key derived from the secret for
  // that purpose alone (a policy signature can never pass as a link signature).
  std::string PolicySignature(std::string_view policy_base64) const;

 private:
  std::string Signature(std::string_view blob_id, int64_t expires_unix_s) const;
  std::string secret_;
};

}  // namespace wanserve::media
