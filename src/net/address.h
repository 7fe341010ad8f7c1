#pragma once
// IP addresses, CIDR ranges and the policy that decides which addresses the server may
// connect to on a client's behalf. Internal ranges are refused unless an operator allowlisted
// them (tests, LAN deployments).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace wanserve::net {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first 4

  bool operator==(const IpAddress&) const = default;
};

std::string ToString(const IpAddress& ip);

// Strict dotted-quad IPv4 or IPv6 text (brackets allowed).
std::optional<IpAddress> ParseIp(std::string_view text);
// Every spelling a resolver or URL parser might accept as an IPv4 literal: dotted quad, one
// to three parts ("127.1"), decimal ("2130706433"), octal ("0177.0.0.1"), hex ("0x7f.1");
// plus IPv6 with or without brackets. nullopt for host names.
std::optional<IpAddress> ParseIpLiteral(std::string_view host);

struct Cidr {
  IpAddress base;
  int prefix = 0;
  bool Contains(const IpAddress& ip) const;
};

// "10.1.0.0/16", "::1/128"; a bare address is a single-host range.
Result<Cidr> ParseCidr(std::string_view text);
std::string ToString(const Cidr& cidr);

// Where an operator lets the server reach internal addresses: a range of addresses, or a host
// name (whatever it resolves to, but only when a URL names that host), on one port or any.
struct AllowEntry {
  std::optional<Cidr> range;
  std::string host;  // lower case, no trailing dot; set when range is not
  int port = 0;      // 0: any port

  // Whether a connection to ip, made for a URL naming host and port, is what this opens.
  bool Matches(const IpAddress& ip, std::string_view url_host, int url_port) const;
};

// "10.1.0.0/16", "10.0.0.5:8443", "[fd00::/8]:443", "::1", "minio.internal:9000",
// "hooks.lan". An address in a legacy spelling ("127.1") is refused rather than read as a name.
Result<AllowEntry> ParseAllowEntry(std::string_view text);
// Comma-separated entries, spaces allowed; empty text is an empty list.
Result<std::vector<AllowEntry>> ParseAllowList(std::string_view text);
std::string ToString(const AllowEntry& entry);

// Why an address must not be reached from the server ("loopback", "private", "link-local",
// ...), or nullopt for a public unicast address: the special-purpose ranges of the RFC 6890
// registries, and for IPv6 anything outside global unicast (2000::/3). IPv4-mapped,
// -translated, -compatible, NAT64 and 6to4 IPv6 forms are judged by the IPv4 address they carry.
std::optional<std::string_view> InternalRange(const IpAddress& ip);

class AddressPolicy {
 public:
  explicit AddressPolicy(std::vector<AllowEntry> allow = {}) : allow_(std::move(allow)) {}
  // kForbidden (detail "address_blocked") for an internal address no allowlist entry opens to
  // a URL naming url_host and url_port.
  Status Check(const IpAddress& ip, std::string_view url_host, int url_port) const;
  const std::vector<AllowEntry>& allowlist() const { return allow_; }

 private:
  std::vector<AllowEntry> allow_;
};

}  // namespace wanserve::net
