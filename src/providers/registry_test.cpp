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

// Stands in for an upstream provider: routing only looks at its name and CanRun.
class NamedProvider final : public Provider {
 public:
  explicit NamedProvider(std::string name) : name_(std::move(name)) {}
  std::string_view Name() const override { return name_; }
  Status CanRun(const core::GenerationRequest&) const override { return Status::Ok(); }

 private:
  std::string name_;
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
  reg.Add(MakeTestPatternProvider({1, 0, 100 * 100}));
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
  reg.Add(MakeTestPatternProvider({1, 0, 100 * 100}));
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

}  // namespace
}  // namespace wanserve::providers
