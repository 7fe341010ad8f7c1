#include "common/text.h"

#include <gtest/gtest.h>

namespace wanserve {

TEST(Utf8, CountsCodePointsNotBytes) {
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("\xE7\x8C\xAB"), 1u);          // 猫
  EXPECT_EQ(Utf8Length("\xF0\x9F\x98\x80x"), 2u);     // 😀x
}

TEST(Utf8, RejectsInvalidSequences) {
  EXPECT_FALSE(Utf8Length("\xC0\xAF").has_value());         // overlong '/'
  EXPECT_FALSE(Utf8Length("\xED\xA0\x80").has_value());     // surrogate
  EXPECT_FALSE(Utf8Length("\xF4\x90\x80\x80").has_value()); // > U+10FFFF
  EXPECT_FALSE(Utf8Length("ab\xE7\x8C").has_value());       // truncated
  EXPECT_FALSE(Utf8Length("\xFF").has_value());
}

TEST(Utf8, TruncatesOnCodePointBoundaries) {
  EXPECT_EQ(Utf8Truncate("\xE7\x8C\xAB\xE7\x8C\xAB", 1), "\xE7\x8C\xAB");
  EXPECT_EQ(Utf8Truncate("hello", 10), "hello");
  EXPECT_EQ(Utf8Truncate("hello", 2), "he");
}

}  // namespace wanserve

#include "common/time_format.h"

namespace wanserve {

TEST(TimeFormat, Iso8601RoundTrips) {
  EXPECT_EQ(FormatIso8601Utc(1757165031123), "2025-09-06T13:23:51.123Z");
  EXPECT_EQ(ParseIso8601Utc("2025-09-06T13:23:51.123Z"), 1757165031123);
  EXPECT_EQ(ParseIso8601Utc("2026-12-31T00:00:00Z"), 1798675200000);
  EXPECT_EQ(ParseIso8601Utc("yesterday"), -1);
}

TEST(Text, EqualsIgnoringCaseFoldsAsciiOnly) {
  EXPECT_TRUE(EqualsIgnoringCase("720P", "720p"));
  EXPECT_TRUE(EqualsIgnoringCase("", ""));
  EXPECT_FALSE(EqualsIgnoringCase("720p", "720px"));
  EXPECT_FALSE(EqualsIgnoringCase("\xC3\x89", "\xC3\xA9")) << "E and e with an accent are other bytes";
}

}  // namespace wanserve
