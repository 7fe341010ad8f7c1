#include "net/address.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include <fmt/format.h>

namespace wanserve::net {
namespace {

IpAddress V4(uint32_t host_order) {
  IpAddress ip;
  ip.bytes[0] = static_cast<uint8_t>(host_order >> 24);
  ip.bytes[1] = static_cast<uint8_t>(host_order >> 16);
  ip.bytes[2] = static_cast<uint8_t>(host_order >> 8);
  ip.bytes[3] = static_cast<uint8_t>(host_order);
  return ip;
}

std::string_view StripBrackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

// One part of a legacy IPv4 spelling: hex with 0x, octal with a leading 0, else decimal.
std::optional<uint64_t> ParseV4Part(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int base = 10;
  if (part.size() > 1 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
    if (part.empty()) return 0;  // "0x" alone is zero, as inet_aton reads it
  } else if (part.size() > 1 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  uint64_t value = 0;
  for (char c : part) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
    if (value > 0xffffffffULL) return std::nullopt;
  }
  return value;
}

std::optional<IpAddress> ParseLegacyV4(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "127.0.0.1." is absolute
  std::vector<uint64_t> parts;
  while (true) {
    auto dot = host.find('.');
    auto value = ParseV4Part(host.substr(0, dot));
    if (!value) return std::nullopt;
    parts.push_back(*value);
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
    if (parts.size() == 4) return std::nullopt;
  }
  // The last part fills the remaining bytes: a.b.c.d, a.b.(16 bits), a.(24 bits), (32 bits).
  uint32_t result = 0;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i] > 255) return std::nullopt;
    result |= static_cast<uint32_t>(parts[i]) << (8 * (3 - i));
  }
  const int last_bits = 8 * static_cast<int>(5 - parts.size());
  if (last_bits < 32 && parts.back() >= (1ULL << last_bits)) return std::nullopt;
  result |= static_cast<uint32_t>(parts.back());
  return V4(result);
}

bool InV4(const IpAddress& ip, uint8_t a, uint8_t b, uint8_t c, uint8_t d, int prefix) {
  return Cidr{IpAddress{false, {a, b, c, d}}, prefix}.Contains(ip);
}

std::optional<std::string_view> InternalV4(const IpAddress& ip) {
  struct Range {
    uint8_t a, b, c, d;
    int prefix;
    std::string_view why;
  };
  static constexpr Range kRanges[] = {
      {0, 0, 0, 0, 8, "unspecified"},          {10, 0, 0, 0, 8, "private"},
      {100, 64, 0, 0, 10, "shared (CGNAT)"},   {127, 0, 0, 0, 8, "loopback"},
      {169, 254, 0, 0, 16, "link-local"},      {172, 16, 0, 0, 12, "private"},
      {192, 0, 0, 0, 24, "reserved"},          {192, 0, 2, 0, 24, "documentation"},
      {192, 88, 99, 0, 24, "reserved"},        {192, 168, 0, 0, 16, "private"},
      {198, 18, 0, 0, 15, "benchmarking"},     {198, 51, 100, 0, 24, "documentation"},
      {203, 0, 113, 0, 24, "documentation"},   {224, 0, 0, 0, 4, "multicast"},
      {240, 0, 0, 0, 4, "reserved"},
  };
  for (const auto& r : kRanges) {
    if (InV4(ip, r.a, r.b, r.c, r.d, r.prefix)) return r.why;
  }
  return std::nullopt;
}

IpAddress EmbeddedV4(const IpAddress& ip, int offset) {
  IpAddress v4;
  std::memcpy(v4.bytes.data(), ip.bytes.data() + offset, 4);
  return v4;
}

bool HasPrefix(const IpAddress& ip, std::initializer_list<uint8_t> head) {
  size_t i = 0;
  for (uint8_t b : head) {
    if (ip.bytes[i++] != b) return false;
  }
  return true;
}

}  // namespace

std::string ToString(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof(buf));
  return buf;
}

std::optional<IpAddress> ParseIp(std::string_view text) {
  std::string s(StripBrackets(text));
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  ip.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

std::optional<IpAddress> ParseIpLiteral(std::string_view host) {
  if (auto ip = ParseIp(host)) return ip;
  return ParseLegacyV4(host);
}

bool Cidr::Contains(const IpAddress& ip) const {
  if (ip.v6 != base.v6) return false;
  int bits = prefix;
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (base.bytes[i] & mask)) return false;
  }
  return true;
}

Result<Cidr> ParseCidr(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto slash = text.find('/');
  auto ip = ParseIp(text.substr(0, slash));
  if (!ip) return MakeError(ErrorCode::kInvalidInput, fmt::format("'{}' is not an IP range", text));
  const int max = ip->v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos ||
        (prefix = std::stoi(std::string(digits))) > max) {
      return MakeError(ErrorCode::kInvalidInput, fmt::format("'{}' has a bad prefix length", text));
    }
  }
  return Cidr{*ip, prefix};
}

std::string ToString(const Cidr& cidr) { return fmt::format("{}/{}", ToString(cidr.base), cidr.prefix); }

namespace {

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

std::string HostKey(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  std::string key(host);
  for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

// A DNS name: dot-separated labels of letters, digits and hyphens, none empty, at most 253 long.
bool IsHostName(std::string_view host) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label > 0;
}

}  // namespace

bool AllowEntry::Matches(const IpAddress& ip, std::string_view url_host, int url_port) const {
  if (port != 0 && port != url_port) return false;
  return range ? range->Contains(ip) : !url_host.empty() && HostKey(url_host) == host;
}

Result<AllowEntry> ParseAllowEntry(std::string_view text) {
  text = Trimmed(text);
  const auto bad = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidInput, fmt::format("allowlist entry '{}': {}", text, why));
  };
  AllowEntry entry;
  std::string_view where = text;
  // A port follows "]" of a bracketed IPv6 range, or the only colon of anything else.
  std::optional<std::string_view> port_text;
  if (where.starts_with('[')) {
    const auto close = where.find(']');
    if (close == std::string_view::npos) return bad("no closing bracket");
    if (close + 1 < where.size()) {
      if (where[close + 1] != ':') return bad("only :port may follow the brackets");
      port_text = where.substr(close + 2);
    }
    where = where.substr(1, close - 1);
  } else if (where.find(':') == where.rfind(':') && where.find(':') != std::string_view::npos) {
    port_text = where.substr(where.find(':') + 1);
    where = where.substr(0, where.find(':'));
  }
  if (port_text) {
    int port = 0;
    if (port_text->empty() || port_text->size() > 5 ||
        port_text->find_first_not_of("0123456789") != std::string_view::npos ||
        (port = std::stoi(std::string(*port_text))) < 1 || port > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    entry.port = port;
  }
  if (auto range = ParseCidr(where); range.ok()) {
    entry.range = *range;
  } else if (ParseIpLiteral(where) || where.find('/') != std::string_view::npos) {
    return bad("write addresses as a dotted quad or IPv6 text, ranges as address/prefix");
  } else if (IsHostName(where)) {
    entry.host = HostKey(where);
  } else {
    return bad("not an address, a range or a host name");
  }
  return entry;
}

Result<std::vector<AllowEntry>> ParseAllowList(std::string_view text) {
  std::vector<AllowEntry> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    if (item.find_first_not_of(' ') != std::string_view::npos) {
      ASSIGN_OR_RETURN(AllowEntry entry, ParseAllowEntry(item));
      out.push_back(std::move(entry));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string ToString(const AllowEntry& entry) {
  std::string where = entry.range ? ToString(*entry.range) : entry.host;
  if (entry.port == 0) return where;
  if (entry.range && entry.range->base.v6) where = "[" + where + "]";
  return fmt::format("{}:{}", where, entry.port);
}

std::optional<std::string_view> InternalRange(const IpAddress& ip) {
  if (!ip.v6) return InternalV4(ip);
  static constexpr std::array<uint8_t, 16> kZero{};
  if (ip.bytes == kZero) return "unspecified";
  std::array<uint8_t, 16> loopback{};
  loopback[15] = 1;
  if (ip.bytes == loopback) return "loopback";
  // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated, RFC 2765) and ::a.b.c.d
  // (compatible) reach the IPv4 address itself, through the host's stack or a translator.
  if (HasPrefix(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||
      HasPrefix(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}) ||
      HasPrefix(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return InternalV4(EmbeddedV4(ip, 12)).value_or("IPv4-mapped");
  }
  if (HasPrefix(ip, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {  // NAT64 translates to it
    return InternalV4(EmbeddedV4(ip, 12));
  }
  if (HasPrefix(ip, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01})) return "local NAT64";
  if (HasPrefix(ip, {0x20, 0x02})) {  // 2002::/16 6to4 embeds the relay's IPv4 address
    if (auto why = InternalV4(EmbeddedV4(ip, 2))) return why;
  }
  if ((ip.bytes[0] & 0xfe) == 0xfc) return "unique-local";
  if (ip.bytes[0] == 0xfe && (ip.bytes[1] & 0xc0) == 0x80) return "link-local";
  if (ip.bytes[0] == 0xfe && (ip.bytes[1] & 0xc0) == 0xc0) return "site-local";
  if (ip.bytes[0] == 0xff) return "multicast";
  if (HasPrefix(ip, {0x20, 0x01, 0x0d, 0xb8})) return "documentation";
  if (HasPrefix(ip, {0x20, 0x01, 0x00, 0x00})) return "Teredo";
  if (HasPrefix(ip, {0x01, 0x00, 0, 0, 0, 0, 0, 0})) return "discard";
  // 2001::/23 holds the IETF protocol assignments (benchmarking, ORCHID, AMT, …), 3fff::/20
  // documentation (RFC 9637); none is a webhook's address.
  if (ip.bytes[0] == 0x20 && ip.bytes[1] == 0x01 && (ip.bytes[2] & 0xfe) == 0) return "IETF protocol assignment";
  if (ip.bytes[0] == 0x3f && ip.bytes[1] == 0xff && (ip.bytes[2] & 0xf0) == 0) return "documentation";
  // Only 2000::/3 is global unicast; everything else (SRv6 5f00::/16, the unassigned space)
  // is no public host.
  if ((ip.bytes[0] & 0xe0) != 0x20) return "not global unicast";
  return std::nullopt;
}

Status AddressPolicy::Check(const IpAddress& ip, std::string_view url_host, int url_port) const {
  auto why = InternalRange(ip);
  if (!why) return Status::Ok();
  for (const auto& entry : allow_) {
    if (entry.Matches(ip, url_host, url_port)) return Status::Ok();
  }
  Error e = MakeError(ErrorCode::kForbidden,
                      fmt::format("{} is a {} address; the server does not connect to internal addresses",
                                  ToString(ip), *why));
  e.detail_code = "address_blocked";
  return e;
}

}  // namespace wanserve::net
