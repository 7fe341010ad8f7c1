#pragma once
// Small wrappers over OpenSSL used by keys, signed URLs and (later) webhooks.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wanserve {

// Cryptographically secure random bytes (OpenSSL RAND_bytes); aborts if the RNG fails, since
// nothing secret can be made without it.
std::vector<uint8_t> RandomBytes(size_t n);
// n characters drawn uniformly from alphabet (rejection sampling, no modulo bias).
std::string RandomString(size_t n, std::string_view alphabet);
// A random (version 4) UUID in its 36-character text form.
std::string RandomUuid();

std::string Sha256Hex(std::string_view data);

// SHA-256 of data that arrives in pieces (a file read in chunks, a download as it streams).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // The digest in lower-case hex; the object then starts over.
  std::string FinalHex();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};
// Of a whole file, read in chunks; nullopt when it cannot be read.
std::optional<std::string> Sha256FileHex(const std::string& path);
std::vector<uint8_t> HmacSha256(std::string_view key, std::string_view data);
// For OSS-compatible POST policies, whose clients expect SHA-1 signatures.
std::vector<uint8_t> HmacSha1(std::string_view key, std::string_view data);
std::string HexEncode(const std::vector<uint8_t>& bytes);
std::string Base64UrlEncode(const std::vector<uint8_t>& bytes);
std::string Base64Encode(const std::vector<uint8_t>& bytes);
// Standard alphabet with padding; nullopt for anything else.
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);
// Lower- or upper-case hex; nullopt for odd length or other characters.
std::optional<std::vector<uint8_t>> HexDecode(std::string_view text);

// Constant-time comparison of two strings of any length (length is not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace wanserve
