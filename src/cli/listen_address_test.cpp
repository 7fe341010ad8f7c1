#include "cli/listen_address.h"

#include <gtest/gtest.h>

namespace wanserve::cli {
namespace {

TEST(ListenAddress, TakesAddressesNamesAndABarePort) {
  auto v4 = ParseListenAddress("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_FALSE(v4->wildcard);
  EXPECT_EQ(v4->Authority(8080), "127.0.0.1:8080");

  auto v6 = ParseListenAddress("[::1]:9000");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Authority(9000), "[::1]:9000");

  auto name = ParseListenAddress("localhost:8080");
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(name->host, "127.0.0.1") << "a name binds its first IPv4 address";

  auto any = ParseListenAddress(":8080");
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_EQ(any->host, "0.0.0.0");
  EXPECT_TRUE(any->wildcard);
  EXPECT_TRUE(ParseListenAddress("0.0.0.0:1")->wildcard);
  EXPECT_TRUE(ParseListenAddress("[::]:1")->wildcard);
  EXPECT_EQ(ParseListenAddress("127.0.0.1:0")->port, 0) << "0 asks for any free port";
}

TEST(ListenAddress, RefusesWhatCannotBeBoundNamingTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.1", "no port"},
      {"127.0.0.1:", "no port"},
      {"127.0.0.1:65536", "0 to 65535"},
      {"127.0.0.1:99999", "0 to 65535"},
      {"127.0.0.1:123456789012", "0 to 65535"},
      {"127.0.0.1:http", "not a host and port"},
      {"user@127.0.0.1:80", "user information"},
      {"[::1:80", "not a host and port"},
      {"no-such-host.invalid:80", "does not resolve"},
      {"http://127.0.0.1:80", "not a host and port"},
  };
  for (const auto& [text, why] : cases) {
    auto parsed = ParseListenAddress(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(parsed.error().message.find(why), std::string::npos) << text << ": " << parsed.error().message;
    EXPECT_NE(parsed.error().message.find(text), std::string::npos) << parsed.error().message;
  }
}

}  // namespace
}  // namespace wanserve::cli
