#include "objectstore/sigv4.h"

#include <gtest/gtest.h>

namespace wanserve::objectstore {
namespace {

// The examples of AWS's "Signature Calculations for the Authorization Header" and
// "Authenticating Requests: Using Query Parameters" pages (S3 API reference).
const Credentials kAwsExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr int64_t k20130524 = 1369353600;  // 2013-05-24T00:00:00Z
constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string HeaderOf(const Pairs& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

TEST(SigV4, GetObjectWithARangeMatchesAwsDocumentation) {
  SignableRequest r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.headers = {{"Range", "bytes=0-9"}};
  r.payload_hash = kEmptySha256;
  const Pairs headers = SignHeaders(r, kAwsExample, "us-east-1", k20130524);
  EXPECT_EQ(HeaderOf(headers, "x-amz-date"), "20130524T000000Z");
  EXPECT_EQ(HeaderOf(headers, "x-amz-content-sha256"), kEmptySha256);
  EXPECT_EQ(HeaderOf(headers, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PresignedGetMatchesAwsDocumentation) {
  SignableRequest r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  EXPECT_EQ(PresignQuery(r, kAwsExample, "us-east-1", k20130524, 86400),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
            "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, QueriesAreSortedAndEncodedOnce) {
  EXPECT_EQ(CanonicalQuery({{"uploadId", "a b/c"}, {"partNumber", "2"}, {"uploads", ""}}),
            "partNumber=2&uploadId=a%20b%2Fc&uploads=");
  EXPECT_EQ(CanonicalQuery({{"prefix", "p"}, {"list-type", "2"}, {"start-after", "x/1/0_ab.png"}}),
            "list-type=2&prefix=p&start-after=x%2F1%2F0_ab.png");
  EXPECT_EQ(UriEncode("/bucket/a b~c/ü", false), "/bucket/a%20b~c/%C3%BC");
  EXPECT_EQ(AmzDate(k20130524 + 3661), "20130524T010101Z");
}

TEST(SigV4, ASessionTokenIsSignedAlong) {
  SignableRequest r;
  r.host = "examplebucket.s3.amazonaws.com";
  r.path = "/test.txt";
  r.payload_hash = kEmptySha256;
  Credentials temporary = kAwsExample;
  temporary.session_token = "token";
  const Pairs headers = SignHeaders(r, temporary, "us-east-1", k20130524);
  EXPECT_EQ(HeaderOf(headers, "x-amz-security-token"), "token");
  EXPECT_NE(HeaderOf(headers, "Authorization").find("x-amz-date;x-amz-security-token"), std::string::npos);
  EXPECT_NE(PresignQuery(r, temporary, "us-east-1", k20130524, 60).find("X-Amz-Security-Token=token"),
            std::string::npos);
}

}  // namespace
}  // namespace wanserve::objectstore
