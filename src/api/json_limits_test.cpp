#include "api/json_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace wanserve::api {
namespace {

TEST(JsonLimits, RefusesDeepOrHugeBodiesBeforeParsing) {
  EXPECT_TRUE(CheckJsonShape(R"({"a":[{"b":[1,2,3]}],"c":"x"})").ok());
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  Status st = CheckJsonShape(deep);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(st.error().field, "body");
  EXPECT_TRUE(CheckJsonShape(std::string(64, '[') + std::string(64, ']')).ok());
  // A 1 MB run of '[' is refused at the 65th, without building anything.
  EXPECT_FALSE(CheckJsonShape(std::string(1 << 20, '[')).ok());
  EXPECT_TRUE(ParseBoundedJson(std::string(1 << 20, '[')).is_discarded());
  std::string wide = "[";
  for (int i = 0; i < 100'001; ++i) wide += "0,";
  wide += "0]";
  EXPECT_FALSE(CheckJsonShape(wide).ok());
}

TEST(JsonLimits, BracketsInsideStringsDoNotCount) {
  const std::string text = R"({"prompt":")" + std::string(200, '[') + R"(\"{{{{ \\"})";
  EXPECT_TRUE(CheckJsonShape(text).ok());
  EXPECT_EQ(ParseBoundedJson(text)["prompt"].get<std::string>().size(), 207u);
}

TEST(JsonLimits, ABodyReadAsJsonMustNotClaimAnotherType) {
  for (const char* fine : {"", "application/json", "application/json; charset=utf-8", " Application/JSON ",
                           "application/merge-patch+json", "application/vnd.api+json;charset=UTF-8"}) {
    EXPECT_TRUE(CheckJsonContentType(fine).ok()) << fine;
  }
  for (const char* wrong : {"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x",
                            "application/xml", "text/json+xml", "json"}) {
    const Status st = CheckJsonContentType(wrong);
    ASSERT_FALSE(st.ok()) << wrong;
    EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
    EXPECT_EQ(st.error().field, "Content-Type");
  }
  EXPECT_NE(CheckJsonContentType("application/x-www-form-urlencoded").error().message.find("application/json"),
            std::string::npos);
}

}  // namespace
}  // namespace wanserve::api
