// The outbound guard's parsers: a URL judged when a client or operator sets it, an address in
// any spelling, an allowlist. An address judged public must not parse back to an internal one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/address.h"
#include "net/outbound_client.h"

using namespace wanserve::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  static const AddressPolicy no_allowlist;
  (void)CheckUrlWhenSet(input, /*require_https=*/true, no_allowlist);
  (void)CheckUrlWhenSet(input, /*require_https=*/false, no_allowlist);
  if (auto list = ParseAllowList(input); list.ok()) {
    // An entry written back reads the same.
    for (const auto& entry : *list) {
      auto again = ParseAllowEntry(ToString(entry));
      if (!again.ok() || ToString(*again) != ToString(entry)) std::abort();
    }
  }
  if (auto ip = ParseIpLiteral(input)) {
    const bool internal = InternalRange(*ip).has_value();
    auto again = ParseIp(ToString(*ip));
    if (!again || InternalRange(*again).has_value() != internal) std::abort();
  }
  return 0;
}
