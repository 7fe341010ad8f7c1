// Signed output links as they arrive: path and query checked against the signature. Only a
// link the signer made may pass.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "media/url_signer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const wanserve::media::UrlSigner signer("fuzzing-secret-0123456789abcdef0123456789");
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto verified = signer.VerifyPath(input, /*now_unix_s=*/1'800'000'000);
  (void)verified;
  const size_t first = input.find('\n'), second = input.find('\n', first == std::string_view::npos ? 0 : first + 1);
  if (second != std::string_view::npos) {
    (void)signer.Verify(input.substr(0, first), input.substr(first + 1, second - first - 1), input.substr(second + 1),
                        1'800'000'000);
  }
  return 0;
}
