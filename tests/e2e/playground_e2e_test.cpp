// The playground and the operator page in a real browser: Debian's headless Chromium driven by puppeteer-core
// (tests/node/playground_check.js) against a real server. Screenshots of each step are kept in
// <build>/test-artifacts/playground/.
#include <filesystem>
#include <thread>

#include "e2e_fixture.h"
#include "testing/loopback_http_server.h"
#include "testing/node_tools.h"
#include "testing/test_pki.h"

namespace wanserve::e2e {
namespace {

bool ChromiumInstalled() {
  return std::filesystem::exists("/usr/bin/chromium") || std::filesystem::exists("/usr/bin/chromium-browser");
}

class PlaygroundE2E : public ServerTest {
 protected:
  void SetUp() override {
    if (!testing::NodeToolsAvailable() || !ChromiumInstalled()) {
      GTEST_SKIP() << "Node.js, tests/node/node_modules or chromium missing (scripts/bootstrap.sh)";
    }
  }
};

TEST_F(PlaygroundE2E, SignInGenerateWatchPlayUploadEditCancelAndRefusals) {
  // Tasks of about three seconds, so that a page polling every second sees progress move.
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "30",
               "--providers-testpattern-step-delay-ms", "100"});
  const std::string key = FundedKey(1'000'000);
  const std::string clip = (dir_.path() / "clip.mp4").string();
  const auto made = testing::RunCommand({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=16",
                                         "-t", "2", "-pix_fmt", "yuv420p", clip});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string shots = (std::filesystem::path(WANSERVE_BUILD_DIR) / "test-artifacts" / "playground").string();
  const auto run = testing::RunCommand(
      {"node", testing::NodeScript("playground_check.js"), server_->base_url(), key, clip, shots});
  const json seen = json::parse(run.out.empty() ? "{}" : run.out, nullptr, false);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_TRUE(seen.is_object()) << run.out;

  // A bad key: a clear message, no form.
  EXPECT_NE(seen["bad_key"]["message"].get<std::string>().find("invalid API key"), std::string::npos) << seen["bad_key"];
  EXPECT_TRUE(seen["bad_key"]["form_hidden"].get<bool>());
  // Signed in: the credits, and the models of the API document.
  EXPECT_NE(seen["signed_in"]["account"].get<std::string>().find("1000000"), std::string::npos) << seen["signed_in"];
  EXPECT_GE(seen["signed_in"]["models"].size(), 7u);
  // An image shown; a video whose progress moved on the way, that plays.
  EXPECT_NE(seen["image"]["status"].get<std::string>().find("completed"), std::string::npos) << seen["image"];
  EXPECT_GT(seen["image"]["width"].get<int>(), 0);
  EXPECT_NE(seen["video"]["status"].get<std::string>().find("completed"), std::string::npos) << seen["video"];
  EXPECT_GE(seen["video"]["progress"].size(), 3u) << "progress seen moving: " << seen["video"]["progress"];
  EXPECT_NEAR(seen["video"]["plays"]["duration"].get<double>(), 2.0, 0.2);
  EXPECT_GT(seen["video"]["plays"]["time"].get<double>(), 0.0) << "it played";
  // Out of range: refused in the page, nothing sent.
  EXPECT_TRUE(seen["out_of_range"]["invalid"].get<bool>());
  EXPECT_EQ(seen["out_of_range"]["tasks_before"], seen["out_of_range"]["tasks_after"]);
  EXPECT_FALSE(seen["out_of_range"]["message"].get<std::string>().empty());
  // Refused by the server: its message, naming the field.
  EXPECT_NE(seen["server_refusal"]["message"].get<std::string>().find("Refused: n:"), std::string::npos)
      << seen["server_refusal"];
  // An upload from the disk, edited.
  EXPECT_NE(seen["edit"]["uploaded"].get<std::string>().find("/files/"), std::string::npos);
  EXPECT_NE(seen["edit"]["status"].get<std::string>().find("completed"), std::string::npos) << seen["edit"];
  // A running task canceled.
  EXPECT_NE(seen["cancel"]["status"].get<std::string>().find("cancel"), std::string::npos) << seen["cancel"];
  // The key's tasks from the server, newest first, with their credits; the exact request as
  // curl, without the key.
  ASSERT_GE(seen["recent"].size(), 4u);
  EXPECT_NE(seen["recent"][0][2].get<std::string>().find("failed"), std::string::npos) << "the canceled one is newest";
  int64_t charged = 0;
  for (const auto& row : seen["recent"]) charged += std::stoll(row[3].get<std::string>());
  EXPECT_GT(charged, 0) << seen["recent"];
  const std::string curl = seen["curl"];
  EXPECT_NE(curl.find("curl -X POST '" + server_->base_url() + "/v1/videos/generations'"), std::string::npos) << curl;
  EXPECT_NE(curl.find("$WANSERVE_KEY"), std::string::npos);
  EXPECT_EQ(curl.find(key), std::string::npos) << "the key is never put in the command";
  // The other dialects: each made a task the page followed to its end in that dialect.
  for (const char* dialect : {"market", "skills_video", "dashscope"}) {
    EXPECT_NE(seen["dialects"][dialect]["status"].get<std::string>().find("completed"), std::string::npos)
        << dialect << ": " << seen["dialects"][dialect];
  }
  EXPECT_NE(seen["dialects"]["fields"].dump().find("parameters.duration"), std::string::npos) << seen["dialects"]["fields"];
  // The command the page copies for DashScope is that dialect's exact request: run by a shell,
  // it creates a task.
  const std::string dashscope_curl = seen["curl_dashscope"];
  EXPECT_NE(dashscope_curl.find("/api/v1/services/aigc/video-generation/video-synthesis"), std::string::npos) << dashscope_curl;
  EXPECT_NE(dashscope_curl.find("X-DashScope-Async: enable"), std::string::npos) << dashscope_curl;
  const auto ran = testing::RunCommand({"env", "WANSERVE_KEY=" + key, "bash", "-c", dashscope_curl + " -s"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  const json created = json::parse(ran.out, nullptr, false);
  ASSERT_TRUE(created.is_object()) << ran.out;
  EXPECT_FALSE(created["output"].value("task_id", "").empty()) << ran.out;
  EXPECT_EQ(created["output"].value("task_status", ""), "PENDING") << ran.out;
  // No WCAG 2.1 A/AA violation axe-core finds, signed out, with a result and with the command
  // shown; nothing wider than a phone's 360 px.
  for (const char* state : {"signin", "result", "curl"}) {
    EXPECT_EQ(seen["accessibility"][state], json::array()) << state << ": " << seen["accessibility"][state].dump(1);
  }
  EXPECT_LE(seen["phone"]["scroll_width"].get<int>(), 360) << "the page scrolls sideways on a phone: " << seen["phone"]["wider"];
  for (const char* shot : {"signin", "image", "video", "edit", "playground", "phone", "dashscope"}) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(shots) / (std::string(shot) + ".png"))) << shot;
  }
}

TEST_F(PlaygroundE2E, TheOperatorPageManagesAccountsGrantsKeysCallbacksAndShowsTheLedgerQueueAndProviders) {
  // A callback receiver that always fails: after one retry its delivery is a dead letter and
  // its endpoint, failing for a second, is disabled.
  const auto pki = testing::MakeTestPki(dir_.str());
  testing::LoopbackHttpServer receiver([](const testing::ReceivedRequest&, int) { return testing::ScriptedResponse(500); },
                                       &pki);
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2",
               "--providers-testpattern-step-delay-ms", "0", "--allow-network", "127.0.0.1/32", "--outbound-ca-file",
               pki.ca_file, "--callbacks-retry-schedule-s", "1", "--callbacks-disable-endpoint-after-s", "1"});
  const auto token = testing::RunCommand(
      {testing::WanserveBinary(), "admin", "tokens", "create", "--data", data_dir_, "--name", "ops"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const auto task = Authed("POST", "/v1/images/generations",
                           json{{"model", "wan-2.7-image"}, {"prompt", "x"}, {"callback_url", receiver.Url("/hook")}}.dump());
  WaitDone(json::parse(task.body)["id"]);
  const std::vector<std::string> admin = {"Authorization: Bearer " + testing::LastLine(token.out)};
  for (int i = 0; i < 100 && json::parse(Call("GET", "/admin/v1/callbacks/failed", "", admin).body)["data"].empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string shots = (std::filesystem::path(WANSERVE_BUILD_DIR) / "test-artifacts" / "playground").string();
  const auto run = testing::RunCommand(
      {"node", testing::NodeScript("operator_check.js"), server_->base_url(), testing::LastLine(token.out), shots});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  const json seen = json::parse(run.out);
  EXPECT_NE(seen["bad_token"].get<std::string>().find("failed"), std::string::npos) << seen["bad_token"];
  EXPECT_NE(seen["queue"].get<std::string>().find("0 waiting"), std::string::npos) << seen["queue"];
  EXPECT_EQ(seen["providers"][0][0], "testpattern");
  EXPECT_EQ(seen["providers"][0][1], "closed");
  bool found = false;
  for (const auto& row : seen["after_grant"]) {
    if (row[1] == "studio") {
      found = true;
      EXPECT_EQ(row[2], "750") << "500 at creation and a grant of 250";
    }
  }
  EXPECT_TRUE(found) << seen["after_grant"];
  EXPECT_NE(seen["new_key"].get<std::string>().find("ws_"), std::string::npos);
  bool revoked = false;
  for (const auto& row : seen["keys"]) revoked = revoked || (row[1] == "studio-render" && row[4] == "revoked");
  EXPECT_TRUE(revoked) << seen["keys"];
  EXPECT_NE(seen["ledger"].get<std::string>().find("every balance explained"), std::string::npos) << seen["ledger"];
  ASSERT_EQ(seen["dead_letters"].size(), 1u) << seen["dead_letters"];
  EXPECT_EQ(seen["dead_letters"][0][3], receiver.Url("/hook"));
  EXPECT_EQ(seen["dead_letters"][0][4], "2") << "two attempts";
  EXPECT_EQ(seen["dead_letters"][0][5], "HTTP 500");
  EXPECT_EQ(seen["endpoints"][0][1], "disabled") << seen["endpoints"];
  EXPECT_EQ(seen["endpoints_after"][0][1], "enabled");
  EXPECT_NE(seen["resend"].get<std::string>().find("Queued 1 dead letter"), std::string::npos) << seen["resend"];
  EXPECT_TRUE(receiver.WaitForRequests(3, 10'000)) << "the resent notification is sent";
  EXPECT_EQ(seen["accessibility"], json::array()) << "WCAG 2.1 A/AA violations: " << seen["accessibility"].dump(1);
  // The revoked key no longer works.
  const std::string secret = seen["new_key"].get<std::string>().substr(seen["new_key"].get<std::string>().find("ws_"));
  EXPECT_EQ(Authed("GET", "/v1/credits", "", secret).status, 401);
}

}  // namespace
}  // namespace wanserve::e2e
