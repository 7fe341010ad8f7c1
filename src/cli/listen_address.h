#pragma once
// Where a listener binds, from the text an operator writes: "127.0.0.1:8080", "localhost:8080",
// "[::1]:8080", ":8080" (every interface). Parsed as a URL authority (Boost.URL), so what is
// refused is refused with the reason.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace wanserve::cli {

struct ListenAddress {
  std::string host;       // an address to bind: "127.0.0.1", "::1", "0.0.0.0"
  uint16_t port = 0;      // 0: any free port
  bool wildcard = false;  // every interface (":port", "0.0.0.0", "[::]")

  // "127.0.0.1:8080", "[::1]:8080": how a URL names it.
  std::string Authority(uint16_t bound_port) const;
};

// A host name is resolved here (its first address, IPv4 first); kInvalidInput names what is
// wrong with the text.
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace wanserve::cli
