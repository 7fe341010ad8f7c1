// Honest routing: a request no configured provider makes as asked is refused at submit in the
// dialect's own shape, with nothing held; /readyz and the start-up log say which provider makes
// which model; the testpattern provider only answers when it is enabled on purpose.
#include <filesystem>
#include <fstream>

#include "e2e_fixture.h"

namespace wanserve::e2e {
namespace {

class RoutingE2E : public ServerTest {
 protected:
  // The files of a release laid out as the official one, empty: enough for routing, which
  // looks at what a preset makes, never at its weights.
  std::string FakeRelease(const std::string& name) {
    const auto root = dir_.path() / name;
    std::filesystem::create_directories(root / "google/umt5-xxl");
    for (const char* file : {"models_t5_umt5-xxl-enc-bf16.pth", "google/umt5-xxl/spiece.model", "Wan2.1_VAE.pth",
                             "Wan2.2_VAE.pth", "diffusion_pytorch_model.safetensors"}) {
      std::ofstream(root / file) << "";
    }
    return root.string();
  }

  json Readyz(int expected_status) {
    auto r = Call("GET", "/readyz");
    EXPECT_EQ(r.status, expected_status) << r.body;
    return json::parse(r.body);
  }

  // The /readyz rows of one model and kind.
  static std::vector<json> Rows(const json& ready, const std::string& model, const std::string& kind) {
    std::vector<json> rows;
    for (const auto& row : ready["models"]) {
      if (row["model"] == model && row["kind"] == kind) rows.push_back(row);
    }
    return rows;
  }
};

TEST_F(RoutingE2E, WithNoProviderEveryDialectRefusesAtSubmitAndNothingIsHeldOrStored) {
  StartServer({});
  const std::string key = FundedKey(1000);

  auto skills = Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"a cat"})", key);
  EXPECT_EQ(skills.status, 400) << skills.body;
  EXPECT_EQ(json::parse(skills.body)["code"], "IMAGE_GENERATION_UNSUPPORTED_MODEL") << skills.body;

  auto unified = Authed("POST", "/v1/videos/generations",
                        R"({"model":"wan2.7-text-to-video","prompt":"waves","duration":2})", key);
  EXPECT_EQ(unified.status, 404) << unified.body;
  EXPECT_EQ(json::parse(unified.body)["error"]["code"], "model_not_found") << unified.body;
  EXPECT_NE(json::parse(unified.body)["error"]["message"].get<std::string>().find("wan2.7-t2v"), std::string::npos);

  auto market = Authed("POST", "/api/v1/jobs/createTask",
                       R"({"model":"wan/2-7-image","input":{"prompt":"rain"}})", key);
  EXPECT_EQ(json::parse(market.body)["code"], 422) << market.body;

  auto native = Call("POST", "/api/v1/services/aigc/video-generation/video-synthesis",
                     R"({"model":"wan2.7-t2v","input":{"prompt":"a fox"}})",
                     {"Authorization: Bearer " + key, "X-DashScope-Async: enable", "Content-Type: application/json"});
  EXPECT_EQ(native.status, 400) << native.body;
  EXPECT_EQ(json::parse(native.body)["code"], "InvalidParameter") << native.body;

  EXPECT_EQ(Credits(key)["total"], 1000) << "nothing held";
  auto running = Authed("GET", "/api/v1/generations/running", "", key);
  EXPECT_EQ(json::parse(running.body).size(), 0u) << "no task was created";

  const json ready = Readyz(503);
  EXPECT_EQ(ready["status"], "not_ready");
  EXPECT_EQ(ready["store"], "ok");
  for (const auto& row : ready["models"]) EXPECT_TRUE(row["provider"].is_null()) << row.dump();
  EXPECT_NE(server_->log().find("no provider is configured"), std::string::npos) << server_->log();
}

TEST_F(RoutingE2E, TheTestPatternProviderIsOffUnlessEnabledAndARouteToItThenIsAStartupError) {
  const auto cfg = dir_.path() / "wanserve.toml";
  std::ofstream(cfg) << "[routing]\n\"*\" = [\"testpattern\"]\n";
  auto r = testing::RunCommand({testing::WanserveBinary(), "serve", "--config", cfg.string(), "--data", data_dir_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("provider testpattern is not enabled"), std::string::npos) << r.err;

  std::ofstream(cfg, std::ios::trunc) << "[routing]\n\"*\" = [\"nowhere\"]\n";
  r = testing::RunCommand({testing::WanserveBinary(), "serve", "--config", cfg.string(), "--data", data_dir_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown provider nowhere"), std::string::npos) << r.err;

  StartServer();  // the fixture's default enables it on purpose, and /readyz marks it
  const json ready = Readyz(200);
  const auto rows = Rows(ready, "wan2.7-t2v", "text_to_video");
  ASSERT_EQ(rows.size(), 1u) << ready.dump();
  EXPECT_EQ(rows[0]["provider"], "testpattern");
  EXPECT_EQ(rows[0]["test_only"], true);
  EXPECT_NE(server_->log().find("provider testpattern is enabled"), std::string::npos);
}

TEST_F(RoutingE2E, APresetMakesOnlyTheSizesItWasTrainedForAndSaysSoAtSubmit) {
  const std::string weights = FakeRelease("Wan2.1-T2V-1.3B");
  StartServer({"--providers-local-model", "wan2.1-t2v-1.3b", "--providers-local-weights", weights});
  const std::string key = FundedKey(1000);

  auto video = Authed("POST", "/v1/videos/generations",
                      R"({"model":"wan2.7-text-to-video","prompt":"waves","duration":5})", key);
  EXPECT_EQ(video.status, 400) << "720p is not upscaled from the 480p model: " << video.body;
  const std::string message = json::parse(video.body)["error"]["message"];
  EXPECT_NE(message.find("480p"), std::string::npos) << message;
  EXPECT_NE(message.find("720p"), std::string::npos) << message;

  auto big_image = Authed("POST", "/v1/images/generations",
                          R"({"model":"wan-2.7-image","prompt":"a lake","size":"square_hd"})", key);
  EXPECT_EQ(big_image.status, 400) << "1024x1024 is past what the 1.3B model makes: " << big_image.body;
  EXPECT_EQ(Credits(key)["total"], 1000);

  const json ready = Readyz(200);
  const auto t2v = Rows(ready, "wan2.7-t2v", "text_to_video");
  ASSERT_EQ(t2v.size(), 1u);
  EXPECT_EQ(t2v[0]["provider"], "local");
  EXPECT_EQ(t2v[0]["engine"], "wan2.1-t2v-1.3b");
  EXPECT_NE(t2v[0]["sizes"].get<std::string>().find("480p (832x480)"), std::string::npos) << t2v[0].dump();
  EXPECT_TRUE(t2v[0].find("test_only") == t2v[0].end());
  EXPECT_EQ(Rows(ready, "wan2.7-videoedit", "video_edit").at(0)["provider"], "local") << "SDEdit on any preset";
  EXPECT_TRUE(Rows(ready, "wan2.7-i2v", "image_to_video").at(0)["provider"].is_null())
      << "image to video needs a TI2V preset";
}

TEST_F(RoutingE2E, AConfiguredPresetWithoutItsWeightsIsAStartupError) {
  auto r = testing::RunCommand({testing::WanserveBinary(), "serve", "--data", data_dir_, "--providers-local-model",
                                "wan2.2-ti2v-5b", "--providers-local-weights", (dir_.path() / "none").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("wan2.2-ti2v-5b needs its weights"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("wanserve models pull wan2.2-ti2v-5b"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace wanserve::e2e
