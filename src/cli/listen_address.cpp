#include "cli/listen_address.h"

#include <boost/url/parse.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "net/address.h"
#include "net/outbound_client.h"

namespace wanserve::cli {
namespace {

Error Invalid(std::string_view text, const std::string& why) {
  return MakeError(ErrorCode::kInvalidInput,
                   fmt::format("listen address \"{}\": {} (write host:port, [ipv6]:port or :port)", text, why));
}

bool IsWildcard(const net::IpAddress& ip) {
  return std::all_of(ip.bytes.begin(), ip.bytes.begin() + (ip.v6 ? 16 : 4), [](uint8_t b) { return b == 0; });
}

}  // namespace

std::string ListenAddress::Authority(uint16_t bound_port) const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, bound_port)
                                             : fmt::format("{}:{}", host, bound_port);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto authority = boost::urls::parse_authority(text);
  if (!authority) return Invalid(text, "not a host and port");
  if (authority->has_userinfo()) return Invalid(text, "user information is not part of an address");
  if (!authority->has_port() || authority->port().empty()) return Invalid(text, "no port");
  // Boost.URL keeps a port's digits whatever their value: the range is ours to check.
  const std::string_view digits = authority->port();
  unsigned port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port > 65535) {
    return Invalid(text, "the port must be 0 to 65535");
  }
  ListenAddress out;
  out.port = static_cast<uint16_t>(port);
  switch (authority->host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6: {
      auto ip = net::ParseIp(authority->host_address());
      if (!ip) return Invalid(text, "not an IP address");
      out.host = net::ToString(*ip);
      out.wildcard = IsWildcard(*ip);
      return out;
    }
    case boost::urls::host_type::name: {
      const std::string name = authority->host_address();
      if (name.empty()) {
        out.host = "0.0.0.0";
        out.wildcard = true;
        return out;
      }
      auto addresses = net::ResolveHost(name);
      if (!addresses.ok() || addresses->empty()) return Invalid(text, "the host name does not resolve");
      auto chosen = std::find_if(addresses->begin(), addresses->end(), [](const net::IpAddress& a) { return !a.v6; });
      out.host = net::ToString(chosen != addresses->end() ? *chosen : addresses->front());
      out.wildcard = IsWildcard(chosen != addresses->end() ? *chosen : addresses->front());
      return out;
    }
    default:
      return Invalid(text, "an IP future literal cannot be bound");
  }
}

}  // namespace wanserve::cli
