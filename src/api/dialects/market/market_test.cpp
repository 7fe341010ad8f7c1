#include <gtest/gtest.h>

#include "api/dialects/market/internal.h"

namespace wanserve::api::dialects::market {
namespace {

json J(const char* text) { return json::parse(text); }

TEST(MarketParse, ImageDefaultsAndParamEcho) {
  auto p = Parse(J(R"({"model":"wan/2-7-image-pro","callBackUrl":"https://h.example/cb","input":{"prompt":"x"}})"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->request.model, "wan2.7-image-pro");
  EXPECT_EQ(p->request.resolution_tier, "2K");
  EXPECT_EQ(p->request.width, 2048);
  EXPECT_EQ(p->request.count, 1);
  EXPECT_EQ(p->request.callback_url, "https://h.example/cb");
  EXPECT_EQ(p->param, J(R"({"model":"wan/2-7-image-pro","callBackUrl":"https://h.example/cb","input":{"prompt":"x"}})"));
}

TEST(MarketParse, ImageModeRules) {
  EXPECT_TRUE(Parse(J(R"({"model":"wan/2-7-image-pro","input":{"prompt":"x","resolution":"4K"}})")).ok());
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","resolution":"4K"}})")).error().field,
            "input.resolution");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image-pro","input":{"prompt":"x","resolution":"4K","enable_sequential":true}})"))
                .error().field, "input.resolution");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","n":5}})")).error().field, "input.n");
  auto seq = Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","enable_sequential":true}})"));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(seq->request.count, 12);
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","enable_sequential":true,"n":13}})")).error().field,
            "input.n");
  std::string nine = R"({"model":"wan/2-7-image","input":{"prompt":"x","input_urls":[)";
  for (int i = 0; i < 9; ++i) nine += std::string(i ? "," : "") + "\"https://a/" + std::to_string(i) + "\"";
  EXPECT_TRUE(Parse(json::parse(nine + "]}}")).ok());
  EXPECT_EQ(Parse(json::parse(nine + ",\"https://a/9\"]}}")).error().field, "input.input_urls");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","aspect_ratio":"5:4"}})")).error().field,
            "input.aspect_ratio");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","input":{"prompt":"x","color_palette":[{"hex":"#fff"}]}})")).error().field,
            "input.color_palette");
}

TEST(MarketParse, VideoModelsAndEnvelopeErrors) {
  auto t2v = Parse(J(R"({"model":"wan/2-7-text-to-video","input":{"prompt":"x","resolution":"720p","duration":15}})"));
  ASSERT_TRUE(t2v.ok()) << t2v.error().message;
  EXPECT_EQ(t2v->request.width, 1280);
  EXPECT_EQ(t2v->request.prompt_extend, true);
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-videoedit","input":{"prompt":"x"}})")).error().field, "input.video_url");
  auto unknown = Parse(J(R"({"model":"wan/9-9","input":{"prompt":"x"}})"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(EnvelopeCode(unknown.error().code), 422);
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image"})")).error().field, "input");
  EXPECT_EQ(Parse(J(R"({"model":"wan/2-7-image","callBackUrl":"http://x","input":{"prompt":"x"}})")).error().field,
            "callBackUrl");
  auto r = RenderError(MakeError(ErrorCode::kUnauthorized, "no key"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body), J(R"({"code":401,"msg":"no key","data":null})"));
  EXPECT_EQ(EnvelopeCode(ErrorCode::kInsufficientCredits), 402);
  EXPECT_EQ(EnvelopeCode(ErrorCode::kRateLimited), 429);
  EXPECT_EQ(EnvelopeCode(ErrorCode::kUnavailable), 455);
  EXPECT_EQ(EnvelopeCode(ErrorCode::kNotFound), 404);
}

}  // namespace
}  // namespace wanserve::api::dialects::market
