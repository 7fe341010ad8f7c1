#include "objectstore/sigv4.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/crypto.h"

namespace wanserve::objectstore {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string Hmac(std::string_view key, std::string_view data) {
  const auto mac = HmacSha256(key, data);
  return std::string(mac.begin(), mac.end());
}

std::string Scope(const std::string& date, const std::string& region) {
  return fmt::format("{}/{}/s3/aws4_request", date, region);
}

// The signature of a canonical request: HMAC of the string to sign under the key derived from
// the secret, the date, the region and the service.
std::string Signature(const std::string& canonical_request, const Credentials& credentials, const std::string& region,
                      const std::string& amz_date) {
  const std::string date = amz_date.substr(0, 8);
  const std::string string_to_sign =
      fmt::format("{}\n{}\n{}\n{}", kAlgorithm, amz_date, Scope(date, region), Sha256Hex(canonical_request));
  std::string key = Hmac("AWS4" + credentials.secret_access_key, date);
  key = Hmac(key, region);
  key = Hmac(key, "s3");
  key = Hmac(key, "aws4_request");
  return HexEncode(HmacSha256(key, string_to_sign));
}

// Canonical headers and the signed-header list of the given headers (any case, unsorted).
std::pair<std::string, std::string> CanonicalHeaders(const Pairs& headers) {
  Pairs lowered;
  for (const auto& [name, value] : headers) lowered.emplace_back(Lower(name), Trim(value));
  std::sort(lowered.begin(), lowered.end());
  std::string canonical;
  std::string signed_names;
  for (const auto& [name, value] : lowered) {
    canonical += name + ":" + value + "\n";
    signed_names += (signed_names.empty() ? "" : ";") + name;
  }
  return {canonical, signed_names};
}

std::string CanonicalRequest(const SignableRequest& r, const Pairs& query, const Pairs& headers,
                             const std::string& payload_hash) {
  const auto [canonical_headers, signed_names] = CanonicalHeaders(headers);
  return fmt::format("{}\n{}\n{}\n{}\n{}\n{}", r.method, UriEncode(r.path, false), CanonicalQuery(query),
                     canonical_headers, signed_names, payload_hash);
}

}  // namespace

std::string UriEncode(std::string_view text, bool encode_slash) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string AmzDate(int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::string CanonicalQuery(const Pairs& query) {
  Pairs encoded;
  for (const auto& [name, value] : query) encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

Pairs SignHeaders(const SignableRequest& request, const Credentials& credentials, const std::string& region,
                  int64_t unix_s) {
  const std::string amz_date = AmzDate(unix_s);
  Pairs added = {{"x-amz-date", amz_date}, {"x-amz-content-sha256", request.payload_hash}};
  if (!credentials.session_token.empty()) added.emplace_back("x-amz-security-token", credentials.session_token);
  Pairs headers = request.headers;
  headers.emplace_back("host", request.host);
  headers.insert(headers.end(), added.begin(), added.end());
  const std::string canonical = CanonicalRequest(request, request.query, headers, request.payload_hash);
  const std::string signed_names = CanonicalHeaders(headers).second;
  added.emplace_back("Authorization",
                     fmt::format("{} Credential={}/{}, SignedHeaders={}, Signature={}", kAlgorithm,
                                 credentials.access_key_id, Scope(amz_date.substr(0, 8), region), signed_names,
                                 Signature(canonical, credentials, region, amz_date)));
  return added;
}

std::string PresignQuery(const SignableRequest& request, const Credentials& credentials, const std::string& region,
                         int64_t unix_s, int64_t expires_s) {
  const std::string amz_date = AmzDate(unix_s);
  Pairs query = request.query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  query.emplace_back("X-Amz-Credential",
                     credentials.access_key_id + "/" + Scope(amz_date.substr(0, 8), region));
  query.emplace_back("X-Amz-Date", amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires_s));
  if (!credentials.session_token.empty()) query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  query.emplace_back("X-Amz-SignedHeaders", "host");
  const std::string canonical = CanonicalRequest(request, query, {{"host", request.host}}, "UNSIGNED-PAYLOAD");
  return CanonicalQuery(query) + "&X-Amz-Signature=" + Signature(canonical, credentials, region, amz_date);
}

}  // namespace wanserve::objectstore
