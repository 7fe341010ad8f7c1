#include "providers/registry.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace wanserve::providers {
namespace {

core::GenerationRequest SmallVideo() {
  core::GenerationRequest r;
  r.kind = core::RequestKind::kTextToVideo;
  r.model = "wan2.7-t2v";
  r.width = 64;
  r.height = 48;
  r.duration_s = 2;
  r.fps = 8;
  return r;
}

// Stands in for a provider: routing only looks at its name, Serves and Capabilities. It makes
// videos up to `max_width` wide (0: any) and no images.
class NamedProvider final : public Provider {
 public:
  explicit NamedProvider(std::string name, int max_width = 0) : name_(std::move(name)), max_width_(max_width) {}
  std::string_view Name() const override { return name_; }
  Status Serves(const core::GenerationRequest& r) const override {
    if (!core::IsVideo(r.kind)) return MakeError(ErrorCode::kUnsupportedModel, "no images");
    if (max_width_ > 0 && r.width > max_width_) {
      return MakeError(ErrorCode::kInvalidInput, "too wide for " + name_, "resolution");
    }
    return Status::Ok();
  }
  std::vector<Capability> Capabilities(std::string_view model) const override {
    if (model != core::kModelTextToVideo) return {};
    return {{core::RequestKind::kTextToVideo, "narrow", name_ + " engine"}};
  }

 private:
  std::string name_;
  int max_width_;
};

std::vector<std::string> Names(const Result<std::vector<Provider*>>& candidates) {
  std::vector<std::string> out;
  if (candidates.ok()) {
    for (auto* p : *candidates) out.emplace_back(p->Name());
  }
  return out;
}

TEST(Registry, RoutesByModelInOrderAndExplainsWhenNothingFits) {
  ProviderRegistry reg;
  reg.Add(MakeTestPatternProvider({.enabled = true, .steps = 1, .step_delay_ms = 0, .max_pixels = 100 * 100}));
  reg.Route("wan2.7-t2v", {"dashscope", "testpattern"});
  auto r = SmallVideo();
  EXPECT_EQ(Names(reg.Candidates(r)), std::vector<std::string>{"testpattern"});
  r.width = 1000;
  auto too_big = reg.Candidates(r);
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(too_big.error().message.find("dashscope: not configured"), std::string::npos);
  r.model = "other";
  EXPECT_FALSE(reg.Candidates(r).ok()) << "no route for the model and no '*' route";
}

TEST(Registry, ConsecutiveFaultsOpenTheCircuitUntilItsTimeIsUp) {
  auto clock = std::make_shared<testing::FakeClock>();
  ProviderRegistry reg(clock, {3, 10'000});
  reg.Add(std::make_unique<NamedProvider>("dashscope"));
  reg.Add(MakeTestPatternProvider({.enabled = true, .steps = 1, .step_delay_ms = 0, .max_pixels = 100 * 100}));
  reg.Route("*", {"dashscope", "testpattern"});
  const std::vector<std::string> both{"dashscope", "testpattern"};

  reg.ReportFault("dashscope");
  reg.ReportFault("dashscope");
  reg.ReportHealthy("dashscope");
  reg.ReportFault("dashscope");
  reg.ReportFault("dashscope");
  EXPECT_EQ(Names(reg.Candidates(SmallVideo())), both) << "a success in between resets the count";
  reg.ReportFault("dashscope");
  EXPECT_TRUE(reg.CircuitOpen("dashscope"));
  EXPECT_EQ(Names(reg.Candidates(SmallVideo())), std::vector<std::string>{"testpattern"});

  clock->Advance(10'001);
  EXPECT_EQ(Names(reg.Candidates(SmallVideo())), both) << "one request is let through after open_ms";
  reg.ReportFault("dashscope");
  EXPECT_TRUE(reg.CircuitOpen("dashscope")) << "and one more fault reopens it";
  clock->Advance(10'001);
  reg.ReportHealthy("dashscope");
  reg.ReportFault("dashscope");
  EXPECT_FALSE(reg.CircuitOpen("dashscope"));
}

TEST(Registry, AtSubmitARequestSomeRoutedProviderServesIsAcceptedWhateverItsHealth) {
  auto clock = std::make_shared<testing::FakeClock>();
  ProviderRegistry reg(clock, {1, 10'000});
  reg.Add(std::make_unique<NamedProvider>("narrow", 100));
  reg.Route("*", {"narrow"});
  reg.ReportFault("narrow");
  ASSERT_TRUE(reg.CircuitOpen("narrow"));
  EXPECT_TRUE(reg.CheckServed(SmallVideo()).ok()) << "an open circuit is transient: the task waits for it";
  EXPECT_FALSE(reg.Candidates(SmallVideo()).ok()) << "but is not run there meanwhile";
}

TEST(Registry, AtSubmitTheRefusalSaysWhyEachProviderDeclined) {
  ProviderRegistry reg;
  reg.Add(std::make_unique<NamedProvider>("narrow", 100));
  reg.Route("*", {"dashscope", "narrow"});
  auto wide = SmallVideo();
  wide.width = 500;
  Status refused = reg.CheckServed(wide);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput) << "served, but not at this size";
  EXPECT_EQ(refused.error().field, "resolution");
  EXPECT_NE(refused.error().message.find("dashscope: not configured"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("too wide for narrow"), std::string::npos) << refused.error().message;

  auto image = SmallVideo();
  image.kind = core::RequestKind::kTextToImage;
  image.model = "wan2.7-image";
  refused = reg.CheckServed(image);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnsupportedModel) << "nobody makes images at all";

  ProviderRegistry empty;
  refused = empty.CheckServed(SmallVideo());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnsupportedModel) << "no route at all";
}

TEST(Registry, TheServingTableNamesWhoMakesEachModelAndWhatNobodyMakes) {
  ProviderRegistry reg;
  reg.Add(std::make_unique<NamedProvider>("narrow", 100));
  reg.Add(MakeTestPatternProvider({.enabled = true, .steps = 1, .step_delay_ms = 0}));
  reg.Route("wan2.7-t2v", {"narrow", "testpattern"});
  reg.Route("wan2.7-image", {"narrow"});
  const auto rows = reg.ServingTable();
  auto find = [&](const std::string& model, core::RequestKind kind) {
    std::vector<ServingRow> out;
    for (const auto& row : rows) {
      if (row.model == model && row.capability.kind == kind) out.push_back(row);
    }
    return out;
  };
  auto t2v = find("wan2.7-t2v", core::RequestKind::kTextToVideo);
  ASSERT_EQ(t2v.size(), 2u);
  EXPECT_EQ(t2v[0].provider, "narrow") << "in route order";
  EXPECT_EQ(t2v[0].capability.engine, "narrow engine");
  EXPECT_FALSE(t2v[0].for_tests_only);
  EXPECT_EQ(t2v[1].provider, "testpattern");
  EXPECT_TRUE(t2v[1].for_tests_only);
  auto images = find("wan2.7-image", core::RequestKind::kTextToImage);
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].provider, "") << "routed, but the provider makes no images";
  EXPECT_EQ(find("wan2.7-videoedit", core::RequestKind::kVideoEdit).at(0).provider, "") << "not routed";
}

TEST(Registry, AConfigurationFaultIsKeptUntilTheProviderWorksAgain) {
  ProviderRegistry reg;
  reg.ReportConfigurationFault("dashscope", "DashScope refused this server's account (InvalidApiKey)");
  EXPECT_NE(reg.ConfigurationFault("dashscope").find("InvalidApiKey"), std::string::npos);
  EXPECT_FALSE(reg.CircuitOpen("dashscope")) << "not a fault of the provider's health";
  reg.ReportHealthy("dashscope");
  EXPECT_EQ(reg.ConfigurationFault("dashscope"), "");
}

}  // namespace
}  // namespace wanserve::providers
