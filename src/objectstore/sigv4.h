#pragma once
// AWS Signature Version 4 for S3, by hand: the Authorization header of a request and the
// query of a presigned URL, from one canonical request. (libcurl 7.88's CURLOPT_AWS_SIGV4
// neither sorts query parameters, curl#9717, nor hashes a body it does not send as
// POSTFIELDS; every S3 request wanserve makes is signed here instead, and checked against the
// examples of AWS's documentation.)
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wanserve::objectstore {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

struct SignableRequest {
  std::string method = "GET";
  std::string host;          // as sent in the Host header: "bucket.s3.amazonaws.com", "127.0.0.1:9000"
  std::string path = "/";    // unencoded; each segment is encoded, "/" kept
  Pairs query;               // unencoded names and values
  Pairs headers;             // further headers to sign (names in any case), e.g. Range
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// SigV4's URI encoding: A-Z a-z 0-9 - _ . ~ stay, every other byte is %XX (upper case); "/"
// stays unless encode_slash.
std::string UriEncode(std::string_view text, bool encode_slash);
// "20130524T000000Z" for a Unix time.
std::string AmzDate(int64_t unix_s);
// The query as sent: names and values encoded, sorted by name then value, joined with '&'.
std::string CanonicalQuery(const Pairs& query);

// The headers to send with the request, the signature's among them: x-amz-date,
// x-amz-content-sha256, x-amz-security-token (with temporary credentials), Authorization.
Pairs SignHeaders(const SignableRequest& request, const Credentials& credentials, const std::string& region,
                  int64_t unix_s);

// The query string of a presigned URL for the request (its own query first), valid
// expires_s seconds from unix_s; only the Host header is signed.
std::string PresignQuery(const SignableRequest& request, const Credentials& credentials, const std::string& region,
                         int64_t unix_s, int64_t expires_s);

}  // namespace wanserve::objectstore
