#include "api/multipart.h"

#include <gtest/gtest.h>

namespace wanserve::api {
namespace {

const std::string kType = "multipart/form-data; boundary=XyZ";

std::string Body(std::initializer_list<std::string> parts) {
  std::string out;
  for (const auto& p : parts) out += "--XyZ\r\n" + p + "\r\n";
  return out + "--XyZ--\r\n";
}

TEST(Multipart, FieldsAndFilesInOrderWithTheirNamesAndTypes) {
  const std::string image("\x89PNG\r\n\x1a\n--XyZ-not-a-boundary\r\n\0tail", 32);
  const std::string body = Body({"Content-Disposition: form-data; name=\"prompt\"\r\n\r\na cat",
                                 "content-disposition: form-data; name=\"image_urls\"; filename=\"c a\\\"t.png\"\r\n"
                                 "Content-Type: image/png\r\n\r\n" + image,
                                 "Content-Disposition: form-data; name=empty\r\n\r\n"});
  auto parts = ParseMultipart(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "prompt");
  EXPECT_EQ((*parts)[0].data, "a cat");
  EXPECT_FALSE((*parts)[0].file_name);
  EXPECT_EQ((*parts)[1].name, "image_urls");
  EXPECT_EQ((*parts)[1].file_name, "c a\"t.png");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, image);
  EXPECT_EQ((*parts)[2].name, "empty");
  EXPECT_EQ((*parts)[2].data, "");
}

TEST(Multipart, QuotedBoundaryPreambleAndExtendedFileNames) {
  const std::string body =
      "preamble to ignore\r\n--b 1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plain.txt\"; "
      "filename*=UTF-8''%E7%8C%AB.png\r\n\r\nbytes\r\n--b 1--";
  auto parts = ParseMultipart("Multipart/Form-Data; charset=utf-8; boundary=\"b 1\"", body);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].file_name, "\xE7\x8C\xAB.png");
  EXPECT_EQ((*parts)[0].data, "bytes");
}

TEST(Multipart, MalformedBodiesAreRefusedNotGuessed) {
  const struct {
    std::string type, body, why;
  } cases[] = {
      {"application/json", Body({}), "not multipart/form-data"},
      {"multipart/form-data", Body({}), "names no boundary"},
      {kType, "no delimiter here", "starts with the boundary"},
      {kType, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunfinished", "before its closing boundary"},
      {kType, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"", "headers do not end"},
      {kType, Body({"Content-Disposition: attachment; name=\"a\"\r\n\r\nx"}), "form-data name"},
      {kType, Body({"Content-Disposition: form-data\r\n\r\nx"}), "form-data name"},
      {kType, "--XyZjunk\r\n", "does not end with CRLF"},
  };
  for (const auto& c : cases) {
    auto parts = ParseMultipart(c.type, c.body);
    ASSERT_FALSE(parts.ok()) << c.why;
    EXPECT_EQ(parts.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(parts.error().message.find(c.why), std::string::npos) << parts.error().message;
  }
}

TEST(Multipart, AnEmptyFormIsJustTheCloseDelimiter) {
  auto parts = ParseMultipart(kType, "--XyZ--\r\n");
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(parts->empty());
}

}  // namespace
}  // namespace wanserve::api
