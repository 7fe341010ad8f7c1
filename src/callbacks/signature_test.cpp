#include "callbacks/signature.h"

#include <gtest/gtest.h>

namespace wanserve::callbacks {
namespace {

// The example from the Standard Webhooks specification's reference libraries.
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr const char* kBody = R"({"test": 2432232314})";

TEST(Signature, MatchesTheStandardWebhooksReferenceVector) {
  EXPECT_EQ(StandardWebhookSignature(kSecret, kId, kTimestamp, kBody),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(Signature, VerifiesWithinToleranceAndRejectsTampering) {
  const std::string sig = *StandardWebhookSignature(kSecret, kId, kTimestamp, kBody);
  EXPECT_TRUE(VerifyStandardWebhook(kSecret, kId, "1614265330", kBody, sig, kTimestamp + 10));
  EXPECT_TRUE(VerifyStandardWebhook(kSecret, kId, "1614265330", kBody, "v1,bogus " + sig, kTimestamp));
  EXPECT_FALSE(VerifyStandardWebhook(kSecret, kId, "1614265330", R"({"test": 1})", sig, kTimestamp));
  EXPECT_FALSE(VerifyStandardWebhook(kSecret, "msg_other", "1614265330", kBody, sig, kTimestamp));
  EXPECT_FALSE(VerifyStandardWebhook(kSecret, kId, "1614265330", kBody, sig, kTimestamp + 301));
  EXPECT_FALSE(VerifyStandardWebhook("whsec_b3RoZXI=", kId, "1614265330", kBody, sig, kTimestamp));
  EXPECT_FALSE(StandardWebhookSignature("not-a-secret", kId, kTimestamp, kBody).has_value());
}

TEST(Signature, KieStyleSignsTaskIdAndTimestamp) {
  auto a = KieSignature(kSecret, "task_1", 100);
  ASSERT_TRUE(a.has_value());
  EXPECT_NE(a, KieSignature(kSecret, "task_1", 101));
  EXPECT_NE(a, KieSignature(kSecret, "task_2", 100));
  EXPECT_EQ(a, KieSignature(kSecret, "task_1", 100));
}

}  // namespace
}  // namespace wanserve::callbacks
