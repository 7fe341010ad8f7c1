#include "api/router.h"

#include <gtest/gtest.h>

#include "api/system_routes.h"

namespace wanserve::api {
namespace {

Route Make(const std::string& method, const std::string& pattern) {
  return {method, pattern, Access::kApiKey, [pattern](const HttpRequest&, const RequestContext&) {
            return HttpResponse::Text(200, pattern);
          },
          [](const Error&) { return HttpResponse::Text(500, ""); }};
}

TEST(Router, LiteralRoutesWinOverParametersAndParamsAreExtracted) {
  Router r;
  r.Add(Make("POST", "/api/v1/generation/wan/wan-v2.7"));
  r.Add(Make("GET", "/api/v1/generation/{id}"));
  r.Add(Make("POST", "/api/v1/generation/{id}/cancel"));
  auto m = r.Match("POST", "/api/v1/generation/wan/wan-v2.7");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/generation/wan/wan-v2.7");
  m = r.Match("GET", "/api/v1/generation/gen_abc");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("id"), "gen_abc");
  m = r.Match("POST", "/api/v1/generation/gen_abc/cancel");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("id"), "gen_abc");
}

TEST(Router, MethodMismatchIsReportedSeparatelyFromUnknownPath) {
  Router r;
  r.Add(Make("GET", "/v1/tasks/{task_id}"));
  auto m = r.Match("DELETE", "/v1/tasks/x");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_matched);
  m = r.Match("GET", "/v1/nothing/here/at/all");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(m.path_matched);
}

TEST(ByteRange, ParsesTheForms) {
  using P = std::pair<int64_t, int64_t>;
  EXPECT_EQ(ParseByteRange("bytes=0-9", 100), P(0, 9));
  EXPECT_EQ(ParseByteRange("bytes=90-", 100), P(90, 99));
  EXPECT_EQ(ParseByteRange("bytes=-10", 100), P(90, 99));
  EXPECT_EQ(ParseByteRange("bytes=50-500", 100), P(50, 99));
  EXPECT_EQ(ParseByteRange("bytes=100-", 100), P(-1, -1));
  EXPECT_FALSE(ParseByteRange("items=0-1", 100).has_value());
  EXPECT_FALSE(ParseByteRange("bytes=5-1", 100).has_value());
  EXPECT_FALSE(ParseByteRange("bytes=0-1,5-6", 100).has_value());
}

}  // namespace
}  // namespace wanserve::api
