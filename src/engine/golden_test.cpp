// The engine against the golden vectors made with the official Wan code: every case of the
// shared set must pass in float32 on CPU.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/golden.h"
#include "engine/safetensors.h"
#include "engine/vae.h"
#include "engine/weights.h"
#include "testing/temp_dir.h"

namespace wanserve::engine {
namespace {

std::string GoldenDir() { return WANSERVE_GOLDEN_DIR; }

// The edit set beside it (image to video, SDEdit, VACE), which reuses its weight files.
std::string EditDir() { return GoldenDir() + "/../wan-edit"; }

void ExpectCasesPass(const std::vector<std::string>& only, const std::string& dir = GoldenDir()) {
  ASSERT_TRUE(std::filesystem::exists(dir + "/manifest.json"))
      << "golden set not found (configure with -DWANSERVE_GOLDEN_DIR=...)";
  ApplyThreads(0);
  GoldenOptions options;
  options.only = only;
  auto checks = CheckGoldenSet(dir, options, [](const GoldenCheck&) {});
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_FALSE(checks->empty());
  for (const GoldenCheck& c : *checks) {
    EXPECT_TRUE(c.passed) << c.case_name << " " << c.tensor << ": error " << c.max_abs_error
                          << " > " << c.tolerance << " " << c.message;
  }
}

TEST(GoldenTest, SamplersMatchTheReferenceTrajectories) { ExpectCasesPass({"scheduler"}); }
TEST(GoldenTest, Umt5EncoderMatches) { ExpectCasesPass({"umt5_encoder"}); }
TEST(GoldenTest, Wan21DitMatches) { ExpectCasesPass({"wan21_dit"}); }
TEST(GoldenTest, Wan22DitMatchesWithPerTokenTimesteps) { ExpectCasesPass({"wan22_dit"}); }
TEST(GoldenTest, Wan21VaeMatches) { ExpectCasesPass({"wan21_vae"}); }
TEST(GoldenTest, Wan22VaeMatchesWithPatchifyAndShortcuts) { ExpectCasesPass({"wan22_vae"}); }
TEST(GoldenTest, Wan21TextToVideoPipelineMatches) { ExpectCasesPass({"wan21_t2v_pipeline"}); }
TEST(GoldenTest, Ti2vImageToVideoMatchesWithPilsResizeToTheBit) {
  ExpectCasesPass({"wan22_ti2v_i2v_pipeline"}, EditDir());
}
TEST(GoldenTest, SdeditVideoAndImageEditsMatchAtEachStrength) { ExpectCasesPass({"sdedit_"}, EditDir()); }
TEST(GoldenTest, VaceDitMatchesWithItsHintsAtEachContextScale) { ExpectCasesPass({"vace_dit"}, EditDir()); }
TEST(GoldenTest, VaceContextMatchesWithAndWithoutReferences) { ExpectCasesPass({"vace_context"}, EditDir()); }
TEST(GoldenTest, VaceVideoToVideoPipelineMatches) { ExpectCasesPass({"vace_v2v_pipeline"}, EditDir()); }

// In bf16 (the models' matrix products, as on a GPU in production) every output stays within
// the documented share of its scale; the bound replaces the float32 tolerance only when larger.
TEST(GoldenTest, InBf16ThePipelinesStayWithinTheDocumentedBound) {
  ApplyThreads(0);
  GoldenOptions options;
  options.only = {"wan21_t2v_pipeline"};
  options.precision = "bf16";
  auto checks = CheckGoldenSet(GoldenDir(), options, [](const GoldenCheck&) {});
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_FALSE(checks->empty());
  for (const GoldenCheck& c : *checks) {
    EXPECT_TRUE(c.passed) << c.tensor << ": " << c.max_abs_error << " > " << c.tolerance;
    if (c.tensor == "output.latent") {
      EXPECT_GT(c.max_abs_error, 1e-4) << "bf16 really ran";
    }
  }
  options.precision = "float16";
  EXPECT_FALSE(CheckGoldenSet(GoldenDir(), options, [](const GoldenCheck&) {}).ok());
}

// The GPU check of the set: on a machine whose libtorch has CUDA the cases must pass there in
// float32 too; elsewhere asking for CUDA is a clear refusal, not a crash or a CPU run.
TEST(GoldenTest, OnCudaTheSetPassesWhereThereIsCudaAndIsRefusedClearlyElsewhere) {
  GoldenOptions options;
  options.device = "cuda";
  auto checks = CheckGoldenSet(GoldenDir(), options, [](const GoldenCheck&) {});
  if (!at::hasCUDA()) {
    ASSERT_FALSE(checks.ok());
    EXPECT_EQ(checks.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(checks.error().message.find("CUDA"), std::string::npos) << checks.error().message;
    return;
  }
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  for (const GoldenCheck& c : *checks) EXPECT_TRUE(c.passed) << c.case_name << " " << c.tensor << " " << c.message;
}

TEST(GoldenTest, MissingManifestIsAnError) {
  auto checks = CheckGoldenSet("/nonexistent", {}, [](const GoldenCheck&) {});
  ASSERT_FALSE(checks.ok());
  EXPECT_NE(checks.error().message.find("manifest.json"), std::string::npos);
}

// The latent statistics built into the engine are the official ones the golden set recorded.
TEST(GoldenTest, BuiltInLatentStatisticsAreTheOfficialOnes) {
  for (const auto& [io_name, config] :
       {std::pair{"wan21_vae.io.safetensors", VaeConfig::Wan21()},
        std::pair{"wan22_vae.io.safetensors", VaeConfig::Wan22()}}) {
    auto io = SafetensorsFile::Open(GoldenDir() + "/" + io_name);
    ASSERT_TRUE(io.ok()) << io.error().message;
    const at::Tensor mean = (*io)->Read("const.mean").value();
    const at::Tensor std = (*io)->Read("const.std").value();
    // Within a float32 rounding of the four-decimal constants.
    EXPECT_TRUE(at::allclose(at::tensor(config.mean), mean, 1e-6, 1e-7)) << io_name;
    EXPECT_TRUE(at::allclose(at::tensor(config.std), std, 1e-6, 1e-7)) << io_name;
  }
}

// The checker fails a model that is slightly wrong: one bias of the DiT head nudged by 1e-3.
TEST(GoldenTest, CheckerFailsASlightlyWrongModel) {
  namespace fs = std::filesystem;
  const testing::TempDir temp;
  const fs::path& dir = temp.path();
  fs::copy_file(GoldenDir() + "/wan21_dit_single.io.safetensors", dir / "wan21_dit_single.io.safetensors");
  auto weights = Weights::Load(GoldenDir() + "/wan21_dit.safetensors");
  ASSERT_TRUE(weights.ok());
  std::map<std::string, at::Tensor> tensors = weights->tensors();
  tensors["head.head.bias"] = tensors["head.head.bias"] + 1e-3;
  ASSERT_TRUE(WriteSafetensors((dir / "wan21_dit.safetensors").string(), tensors).ok());
  std::ifstream manifest_in(GoldenDir() + "/manifest.json");
  std::stringstream text;
  text << manifest_in.rdbuf();
  auto manifest = nlohmann::json::parse(text.str());
  nlohmann::json only_dit = nlohmann::json::array();
  for (const auto& c : manifest["cases"]) {
    if (c["name"] == "wan21_dit_single") only_dit.push_back(c);
  }
  manifest["cases"] = only_dit;
  std::ofstream(dir / "manifest.json") << manifest.dump();

  auto checks = CheckGoldenSet(dir.string(), {}, [](const GoldenCheck&) {});
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_EQ(checks->size(), 1u);
  EXPECT_FALSE((*checks)[0].passed);
  EXPECT_GT((*checks)[0].max_abs_error, (*checks)[0].tolerance);
}

}  // namespace
}  // namespace wanserve::engine
