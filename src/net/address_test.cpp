#include "net/address.h"

#include <gtest/gtest.h>

namespace wanserve::net {
namespace {

std::string Literal(const char* host) {
  auto ip = ParseIpLiteral(host);
  return ip ? ToString(*ip) : "(host name)";
}

TEST(ParseIpLiteral, ReadsEveryIpv4SpellingAResolverAccepts) {
  EXPECT_EQ(Literal("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(Literal("2130706433"), "127.0.0.1");
  EXPECT_EQ(Literal("0177.0.0.1"), "127.0.0.1");
  EXPECT_EQ(Literal("0x7f.0.0.1"), "127.0.0.1");
  EXPECT_EQ(Literal("0x7f000001"), "127.0.0.1");
  EXPECT_EQ(Literal("127.1"), "127.0.0.1");
  EXPECT_EQ(Literal("127.0.1"), "127.0.0.1");
  EXPECT_EQ(Literal("0"), "0.0.0.0");
  EXPECT_EQ(Literal("169.254.169.254."), "169.254.169.254");
  EXPECT_EQ(Literal("0251.0376.0251.0376"), "169.254.169.254");
  EXPECT_EQ(Literal("[::1]"), "::1");
  EXPECT_EQ(Literal("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
}

TEST(ParseIpLiteral, LeavesHostNamesAndMalformedNumbersAlone) {
  EXPECT_EQ(Literal("example.com"), "(host name)");
  EXPECT_EQ(Literal("1.2.3.4.5"), "(host name)");
  EXPECT_EQ(Literal("256.1.1.1"), "(host name)");
  EXPECT_EQ(Literal("1.2.3.256"), "(host name)");
  EXPECT_EQ(Literal("08.1.1.1"), "(host name)");  // 8 is not an octal digit
  EXPECT_EQ(Literal("4294967296"), "(host name)");
  EXPECT_EQ(Literal("1..2"), "(host name)");
}

TEST(InternalRange, NamesEachForbiddenRange) {
  auto why = [](const char* text) {
    auto r = InternalRange(*ParseIp(text));
    return r ? std::string(*r) : std::string("public");
  };
  EXPECT_EQ(why("127.0.0.2"), "loopback");
  EXPECT_EQ(why("10.1.2.3"), "private");
  EXPECT_EQ(why("172.16.0.1"), "private");
  EXPECT_EQ(why("172.31.255.255"), "private");
  EXPECT_EQ(why("172.32.0.1"), "public");
  EXPECT_EQ(why("192.168.0.1"), "private");
  EXPECT_EQ(why("169.254.169.254"), "link-local");
  EXPECT_EQ(why("100.64.0.1"), "shared (CGNAT)");
  EXPECT_EQ(why("100.128.0.1"), "public");
  EXPECT_EQ(why("224.0.0.1"), "multicast");
  EXPECT_EQ(why("255.255.255.255"), "reserved");
  EXPECT_EQ(why("0.0.0.0"), "unspecified");
  EXPECT_EQ(why("93.184.216.34"), "public");
  EXPECT_EQ(why("::1"), "loopback");
  EXPECT_EQ(why("::"), "unspecified");
  EXPECT_EQ(why("fe80::1"), "link-local");
  EXPECT_EQ(why("fd00::1"), "unique-local");
  EXPECT_EQ(why("ff02::1"), "multicast");
  EXPECT_EQ(why("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(why("::ffff:169.254.169.254"), "link-local");
  EXPECT_EQ(why("::10.0.0.1"), "private");
  EXPECT_EQ(why("64:ff9b::a9fe:a9fe"), "link-local");
  EXPECT_EQ(why("64:ff9b::5db8:d822"), "public");
  EXPECT_EQ(why("2002:c0a8:0101::1"), "private");
  EXPECT_EQ(why("2606:4700::1111"), "public");
  // The adversarial run's find: IPv4-translated (RFC 2765) reaches the IPv4 host too.
  EXPECT_EQ(why("::ffff:0:127.0.0.1"), "loopback");
  EXPECT_EQ(why("::ffff:0:169.254.169.254"), "link-local");
  EXPECT_EQ(why("::ffff:0:93.184.216.34"), "IPv4-mapped");
  // The rest of the IPv6 special-purpose registry, and everything outside global unicast.
  EXPECT_EQ(why("2001:2::1"), "IETF protocol assignment");   // benchmarking
  EXPECT_EQ(why("2001:20::1"), "IETF protocol assignment");  // ORCHIDv2
  EXPECT_EQ(why("3fff::1"), "documentation");
  EXPECT_EQ(why("5f00::1"), "not global unicast");  // SRv6 SIDs
  EXPECT_EQ(why("4000::1"), "not global unicast");
  EXPECT_EQ(why("2001:4860:4860::8888"), "public");
  EXPECT_EQ(why("2a00:1450:4001::1"), "public");
}

TEST(AddressPolicy, OpensOnlyTheAllowlistedRanges) {
  AddressPolicy policy(*ParseAllowList("127.0.0.1/32, 10.1.0.0/16"));
  EXPECT_TRUE(policy.Check(*ParseIp("127.0.0.1"), "127.0.0.1", 80).ok());
  EXPECT_TRUE(policy.Check(*ParseIp("10.1.200.3"), "10.1.200.3", 8443).ok());
  Status blocked = policy.Check(*ParseIp("10.2.0.1"), "10.2.0.1", 80);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().detail_code, "address_blocked");
  EXPECT_NE(blocked.error().message.find("10.2.0.1 is a private address"), std::string::npos);
  EXPECT_FALSE(policy.Check(*ParseIp("127.0.0.2"), "127.0.0.2", 80).ok());
  EXPECT_FALSE(policy.Check(*ParseIp("::1"), "::1", 80).ok());
}

// An operator may open one port of an address, or a host by its name on one port or all:
// "the MinIO on minio.lan:9000", "the hook receiver at 10.0.0.5:8443".
TEST(AddressPolicy, EntriesWithAPortOrAHostNameOpenOnlyThat) {
  AddressPolicy policy(*ParseAllowList("10.0.0.5:8443, [fd00::/8]:443, minio.lan:9000, Hooks.Example.Internal."));
  const auto check = [&](const char* ip, const char* host, int port) { return policy.Check(*ParseIp(ip), host, port).ok(); };
  EXPECT_TRUE(check("10.0.0.5", "10.0.0.5", 8443));
  EXPECT_FALSE(check("10.0.0.5", "10.0.0.5", 22)) << "another port of the same address";
  EXPECT_FALSE(check("10.0.0.6", "10.0.0.6", 8443));
  EXPECT_TRUE(check("fd00::9", "fd00::9", 443));
  EXPECT_FALSE(check("fd00::9", "fd00::9", 80));
  // A host entry opens what that name resolves to, only when the URL names it.
  EXPECT_TRUE(check("192.168.7.7", "minio.lan", 9000));
  EXPECT_FALSE(check("192.168.7.7", "minio.lan", 9001));
  EXPECT_FALSE(check("192.168.7.7", "other.lan", 9000)) << "another name resolving to the same address";
  EXPECT_FALSE(check("192.168.7.7", "192.168.7.7", 9000)) << "the address without the name";
  EXPECT_TRUE(check("10.9.9.9", "hooks.example.internal", 1234)) << "any port; case and the final dot do not matter";
  EXPECT_TRUE(check("10.9.9.9", "HOOKS.example.internal.", 443));
  // Public addresses need no entry.
  EXPECT_TRUE(check("93.184.216.34", "example.com", 443));
}

TEST(AddressPolicy, AllowlistEntriesReadAndWriteBackAndRefuseNonsense) {
  for (const char* text : {"10.1.0.0/16", "10.0.0.5/32:8443", "[fd00::/8]:443", "fd00::/8", "::1/128",
                           "minio.lan:9000", "hooks.lan", "localhost:8080"}) {
    auto entry = ParseAllowEntry(text);
    ASSERT_TRUE(entry.ok()) << text << ": " << entry.error().message;
    EXPECT_EQ(ToString(*entry), text);
  }
  EXPECT_EQ(ToString(*ParseAllowEntry(" 10.0.0.5:8443 ")), "10.0.0.5/32:8443");
  EXPECT_EQ(ToString(*ParseAllowEntry("[::1]:8080")), "[::1/128]:8080");
  for (const char* bad : {"127.1:80", "0x7f000001", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:", "10.0.0.1:http",
                          "[::1", "[::1]8080", "[::1]:", "a..b", "*.lan", "exa mple.com", "example.com/8",
                          "-:-", "10.0.0.0/33"}) {
    auto entry = ParseAllowEntry(bad);
    EXPECT_FALSE(entry.ok()) << bad << " was taken as " << ToString(*entry);
    if (!entry.ok()) {
      EXPECT_NE(entry.error().message.find(bad), std::string::npos) << entry.error().message;
    }
  }
  EXPECT_FALSE(ParseAllowList("127.0.0.1/32,nope!").ok());
  ASSERT_TRUE(ParseAllowList("").ok());
  EXPECT_TRUE(ParseAllowList(" , ")->empty());
}

TEST(ParseCidr, RejectsNonsense) {
  EXPECT_FALSE(ParseCidr("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseCidr("10.0.0.0/").ok());
  EXPECT_FALSE(ParseCidr("example.com/8").ok());
  EXPECT_EQ(ToString(*ParseCidr("fd00::/8")), "fd00::/8");
}

}  // namespace
}  // namespace wanserve::net
