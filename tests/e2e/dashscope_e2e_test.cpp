// Tasks in every dialect run on DashScope (a protocol-faithful simulator on loopback), and the
// ways that can go wrong: crashes mid-flight, refused connections, throttling, failures.
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <set>
#include <thread>

#include "dashscope_sim/simulator.h"
#include "e2e_fixture.h"
#include "media/probe.h"

namespace wanserve::e2e {
namespace {

class DashScopeE2E : public ServerTest {
 protected:
  // Server flags that route every model to dashscope at base_url, then testpattern.
  std::vector<std::string> Flags(const std::string& base_url) {
    const std::string key_file = (dir_.path() / "dashscope.key").string();
    std::ofstream(key_file) << "sk-sim-0123456789\n";
    return {"--providers-dashscope-base-url", base_url, "--providers-dashscope-api-key-file", key_file,
            "--providers-dashscope-poll-schedule-s", "0.1", "--allow-network", "127.0.0.0/8",
            "--upstream-poll-lease-ms", "2000", "--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2",
            "--providers-testpattern-step-delay-ms", "0"};
  }

  json Submit(const std::string& path, const json& body, const std::string& key = "") {
    auto r = Authed("POST", path, body.dump(), key);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  testing::DashScopeSimulator sim_{testing::SimOptions{"sk-sim-0123456789", 150, 300}};
};

// A port on loopback that refuses connections.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST_F(DashScopeE2E, EachDialectRunsOnDashScopeAndTheResultIsKeptInOurStore) {
  StartServer(Flags(sim_.BaseUrl()));
  json skills = Submit("/api/v1/generation/wan/wan-v2.7", {{"prompt", "skills image"}, {"aspect_ratio", "16:9"}});
  json done = WaitDone(skills["id"]);
  ASSERT_EQ(done["status"], "COMPLETED") << done.dump();
  EXPECT_EQ(sim_.LastCreate()["parameters"]["size"], "1024*576") << sim_.LastCreate().dump();
  const std::string url = done["data"]["image"]["url"];
  EXPECT_EQ(url.rfind(server_->base_url(), 0), 0u) << "served from our store, not DashScope's link: " << url;
  auto info = media::ProbeImageFile(Download(url));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->width, 1024);
  EXPECT_EQ(info->height, 576);

  // EvoLink's defaults (720p, prompt_extend false) are resolved before DashScope sees the task.
  json unified = Submit("/v1/videos/generations", {{"model", "wan2.7-text-to-video"}, {"prompt", "unified video"},
                                                   {"duration", 3}, {"seed", 9}});
  json vdone = WaitDone(unified["id"]);
  ASSERT_EQ(vdone["status"], "completed") << vdone.dump();
  const json sent = sim_.LastCreate();
  EXPECT_EQ(sent["model"], "wan2.7-t2v");
  EXPECT_EQ(sent["input"]["prompt"], "unified video");
  EXPECT_EQ(sent["parameters"]["resolution"], "720P");
  EXPECT_EQ(sent["parameters"]["prompt_extend"], false);
  EXPECT_EQ(sent["parameters"]["duration"], 3);
  EXPECT_EQ(sent["parameters"]["seed"], 9);
  auto vinfo = media::ProbeVideoFile(Download(vdone["results"][0]));
  ASSERT_TRUE(vinfo.ok()) << vinfo.error().message;
  EXPECT_EQ(vinfo->video_codec, "h264");

  json market = Submit("/api/v1/jobs/createTask",
                       {{"model", "wan/2-7-image"}, {"input", {{"prompt", "market image"}, {"n", 2}}}});
  json mdone = WaitDone(market["data"]["taskId"]);
  ASSERT_EQ(mdone["data"]["state"], "success") << mdone.dump();
  EXPECT_EQ(json::parse(mdone["data"]["resultJson"].get<std::string>())["resultUrls"].size(), 2u);

  auto native = Call("POST", "/api/v1/services/aigc/image-generation/generation",
                     R"({"model":"wan2.7-image-pro","input":{"messages":[{"role":"user","content":[{"text":"native"}]}]},
                         "parameters":{"size":"1K"}})",
                     {"Authorization: Bearer " + key_, "X-DashScope-Async: enable"});
  ASSERT_EQ(native.status, 200) << native.body;
  json ndone = WaitDone(json::parse(native.body)["output"]["task_id"]);
  ASSERT_EQ(ndone["output"]["task_status"], "SUCCEEDED") << ndone.dump();
  EXPECT_EQ(sim_.LastCreate()["parameters"]["thinking_mode"], true) << "DashScope's default, resolved here";
  EXPECT_EQ(sim_.Creates(), 4);
}

TEST_F(DashScopeE2E, Kill9WithTwentyUpstreamTasksInFlightCreatesEachOnceAndFinishesAll) {
  testing::DashScopeSimulator slow(testing::SimOptions{"sk-sim-0123456789", 3000, 1000});
  StartServer(Flags(slow.BaseUrl()));
  const std::string key = FundedKey(1000);
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(Submit("/api/v1/generation/wan/wan-v2.7", {{"prompt", "crash " + std::to_string(i)}}, key)["id"]);
  }
  for (int waited = 0; slow.Creates() < 20 && waited < 200; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(slow.Creates(), 20);
  ASSERT_GT(slow.InFlight(), 0);
  RestartServer(SIGKILL, last_extra_);
  for (const auto& id : ids) EXPECT_EQ(WaitDone(id, 60, key)["status"], "COMPLETED") << id;
  const auto per_prompt = slow.CreatesByPrompt();
  EXPECT_EQ(per_prompt.size(), 20u);
  for (const auto& [prompt, n] : per_prompt) EXPECT_EQ(n, 1) << prompt << " was created upstream " << n << " times";
  EXPECT_EQ(Credits(key)["total"], 1000 - 20 * 20);
  ExpectLedgerClean();
}

TEST_F(DashScopeE2E, RefusedConnectionsFallBackToTheNextProvider) {
  StartServer(Flags("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/api/v1"));
  json created = Submit("/v1/images/generations", {{"model", "wan-2.7-image"}, {"prompt", "fallback"},
                                                   {"size", {{"width", 256}, {"height", 256}}}});
  json done = WaitDone(created["id"]);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  auto info = media::ProbeImageFile(Download(done["results"][0]));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 256);
}

// The operator's key is refused: that is a configuration fault, not the provider's, so the task
// fails with a code that says so instead of falling through to the next provider.
TEST_F(DashScopeE2E, AKeyDashScopeRefusesFailsTheTaskWithoutFallingBackAndReleasesTheHold) {
  const auto flags = Flags(sim_.BaseUrl());
  std::ofstream(dir_.path() / "dashscope.key", std::ios::trunc) << "sk-revoked\n";
  StartServer(flags);
  const std::string key = FundedKey(100);
  json unified = WaitDone(Submit("/v1/images/generations", {{"model", "wan-2.7-image"}, {"prompt", "refused"}}, key)["id"],
                          60, key);
  EXPECT_EQ(unified["status"], "failed") << "no test pattern in its place: " << unified.dump();
  EXPECT_EQ(unified["error"]["code"], "service_unavailable") << unified.dump();
  EXPECT_NE(unified["error"]["message"].get<std::string>().find("InvalidApiKey"), std::string::npos) << unified.dump();
  const std::string job =
      Submit("/api/v1/jobs/createTask", {{"model", "wan/2-7-image"}, {"input", {{"prompt", "refused"}}}}, key)["data"]["taskId"];
  json market = WaitDone(job, 60, key);
  EXPECT_EQ(market["data"]["state"], "fail");
  EXPECT_EQ(market["data"]["failCode"], "455") << "kie's code for an unavailable service: " << market.dump();
  EXPECT_NE(market["data"]["failMsg"].get<std::string>().find("InvalidApiKey"), std::string::npos) << market.dump();
  EXPECT_EQ(Credits(key)["total"], 100) << "both holds went back";
  EXPECT_EQ(sim_.Creates(), 0);
  ExpectLedgerClean();

  // Ready still: the test patterns serve every model the refused provider does.
  auto readyz = Call("GET", "/readyz");
  EXPECT_EQ(readyz.status, 200) << readyz.body;
  auto ready = json::parse(readyz.body);
  EXPECT_NE(ready["providers"]["dashscope"]["configuration_fault"].get<std::string>().find("InvalidApiKey"),
            std::string::npos) << ready.dump();
  EXPECT_NE(server_->log().find("refused this server's configuration"), std::string::npos);

  // With DashScope alone, a node whose only provider refuses its key is not ready.
  std::vector<std::string> alone(flags.begin(), flags.end() - 6);
  RestartServer(SIGTERM, alone);
  WaitDone(Submit("/v1/images/generations", {{"model", "wan-2.7-image"}, {"prompt", "refused"}}, key)["id"], 60, key);
  readyz = Call("GET", "/readyz");
  EXPECT_EQ(readyz.status, 503) << readyz.body;
  ready = json::parse(readyz.body);
  EXPECT_EQ(ready["status"], "not_ready");
  EXPECT_NE(ready["models_without_live_provider"].dump().find("wan2.7-image"), std::string::npos) << ready.dump();
}

TEST_F(DashScopeE2E, ThrottlingAndServerErrorsAreRetriedWithoutCreatingTwice) {
  StartServer(Flags(sim_.BaseUrl()));
  testing::SimFaults faults;
  faults.create_throttled = 1;
  faults.create_server_error = 1;
  faults.query_server_error = 2;
  sim_.SetFaults(faults);
  json created = Submit("/api/v1/generation/wan/wan-v2.7", {{"prompt", "retried"}});
  json done = WaitDone(created["id"]);
  EXPECT_EQ(done["status"], "COMPLETED") << done.dump();
  EXPECT_EQ(sim_.CreatesByPrompt()["retried"], 1);
}

TEST_F(DashScopeE2E, UpstreamFailuresFailTheTaskWithItsReasonAndReleaseTheHold) {
  StartServer(Flags(sim_.BaseUrl()));
  const std::string key = FundedKey(100);
  testing::SimFaults faults;
  faults.fail_code = "DataInspectionFailed";
  sim_.SetFaults(faults);
  json rejected = WaitDone(Submit("/api/v1/generation/wan/wan-v2.7", {{"prompt", "inspected"}}, key)["id"], 60, key);
  EXPECT_EQ(rejected["status"], "FAILED");
  EXPECT_EQ(rejected["code"], "IMAGE_GENERATION_CONTENT_REJECTED") << rejected.dump();
  EXPECT_NE(rejected["message"].get<std::string>().find("inappropriate"), std::string::npos);

  faults.fail_code.clear();
  faults.forget_tasks = true;
  sim_.SetFaults(faults);
  json forgotten = WaitDone(Submit("/api/v1/generation/wan/wan-v2.7", {{"prompt", "forgotten"}}, key)["id"], 60, key);
  EXPECT_EQ(forgotten["status"], "FAILED") << forgotten.dump();
  EXPECT_EQ(Credits(key)["total"], 100) << "both holds went back";
  ExpectLedgerClean();
}

TEST_F(DashScopeE2E, CancelWhilePendingUpstreamCancelsThereAndReleasesTheHold) {
  testing::DashScopeSimulator slow(testing::SimOptions{"sk-sim-0123456789", 5000, 1000});
  StartServer(Flags(slow.BaseUrl()));
  const std::string key = FundedKey(100);
  const std::string id = Submit("/api/v1/generation/wan/wan-v2.7", {{"prompt", "cancel me"}}, key)["id"];
  for (int waited = 0; slow.Creates() < 1 && waited < 100; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto canceled = Authed("POST", "/api/v1/generation/" + id + "/cancel", "", key);
  EXPECT_EQ(canceled.status, 200) << canceled.body;
  EXPECT_EQ(WaitDone(id, 30, key)["status"], "CANCELED");
  EXPECT_EQ(slow.InFlight(), 0) << "the PENDING upstream task was canceled there too";
  EXPECT_EQ(Credits(key)["total"], 100);
  ExpectLedgerClean();
}

TEST_F(DashScopeE2E, AnUpstreamTaskThatOutlivesItsTimeoutFailsAndReleasesTheHold) {
  testing::DashScopeSimulator stuck(testing::SimOptions{"sk-sim-0123456789", 60'000, 1000});
  auto flags = Flags(stuck.BaseUrl());
  flags.insert(flags.end(), {"--providers-dashscope-task-timeout-s", "1", "--providers-dashscope-request-timeout-ms",
                             "500"});
  StartServer(flags);
  const std::string key = FundedKey(100);
  // Queries that hang past the request timeout are retried, not fatal; the task timeout is.
  testing::SimFaults faults;
  faults.query_delay_ms = 800;
  stuck.SetFaults(faults);
  json done = WaitDone(Submit("/v1/images/generations", {{"model", "wan-2.7-image"}, {"prompt", "stuck"}}, key)["id"],
                       60, key);
  EXPECT_EQ(done["status"], "failed") << done.dump();
  EXPECT_EQ(done["error"]["code"], "generation_timeout") << done.dump();
  EXPECT_GE(stuck.Queries(), 1);
  EXPECT_EQ(Credits(key)["total"], 100);
  ExpectLedgerClean();
}

// Image-to-video and reference-to-video from every dialect reach DashScope's Wan 2.7 models
// in its own media shape, and come back as each dialect's finished task.
TEST_F(DashScopeE2E, ImageAndReferenceToVideoOfEveryDialectRunOnDashScope) {
  StartServer(Flags(sim_.BaseUrl()));
  const std::string frame = UploadPicture(320, 240);
  const std::string last = UploadPicture(320, 240);
  const std::string clip = UploadClip(2);
  auto types = [](const json& create) {
    std::vector<std::string> out;
    for (const auto& m : create["input"]["media"]) out.push_back(m["type"]);
    return out;
  };
  using Types = std::vector<std::string>;
  const struct {
    std::string path;
    json body;
    std::string model;
    Types media;
  } cases[] = {
      {"/v1/videos/generations",
       {{"model", "wan2.7-image-to-video"}, {"prompt", "unified i2v"}, {"image_start", frame}, {"duration", 2}},
       "wan2.7-i2v", {"first_frame"}},
      {"/v1/videos/generations",
       {{"model", "wan2.7-reference-video"}, {"prompt", "Image 1 meets Video 1"}, {"image_urls", {frame}},
        {"video_urls", {clip}}, {"duration", 2}},
       "wan2.7-r2v", {"reference_image", "reference_video"}},
      {"/api/v1/jobs/createTask",
       {{"model", "wan/2-7-image-to-video"},
        {"input", {{"prompt", "market i2v"}, {"first_frame_url", frame}, {"last_frame_url", last}, {"duration", 2}}}},
       "wan2.7-i2v", {"first_frame", "last_frame"}},
      {"/api/v1/jobs/createTask",
       {{"model", "wan/2-7-r2v"}, {"input", {{"prompt", "Image 1 dances"}, {"reference_image", {frame}}, {"duration", 2}}}},
       "wan2.7-r2v", {"reference_image"}},
      {"/api/v1/generation/wan/wan-v2.7-video",
       {{"feature", "frames"}, {"prompt", "skills frames"}, {"image_url", frame}, {"end_image_url", last}, {"duration", 2}},
       "wan2.7-i2v", {"first_frame", "last_frame"}},
      {"/api/v1/generation/wan/wan-v2.7-video",
       {{"feature", "reference"}, {"prompt", "Video 1 runs"}, {"video_refs", {clip}}, {"duration", 2}},
       "wan2.7-r2v", {"reference_video"}},
  };
  for (const auto& c : cases) {
    const json created = Submit(c.path, c.body);
    std::string id = created.contains("data") && created["data"].is_object() ? created["data"].value("taskId", "")
                                                                              : created.value("id", "");
    ASSERT_FALSE(id.empty()) << created.dump();
    const json done = WaitDone(id, 60);
    EXPECT_TRUE(done.value("status", "") == "completed" || done.value("status", "") == "COMPLETED" ||
                (done.contains("data") && done["data"].is_object() && done["data"].value("state", "") == "success"))
        << c.path << ": " << done.dump();
    EXPECT_EQ(sim_.LastCreate()["model"], c.model) << c.body.dump();
    EXPECT_EQ(types(sim_.LastCreate()), c.media) << sim_.LastCreate().dump();
  }

  // The native dialect, with a dated model id echoed as sent.
  const std::vector<std::string> headers = {"Authorization: Bearer " + key_, "X-DashScope-Async: enable",
                                            "Content-Type: application/json"};
  auto native = Call("POST", "/api/v1/services/aigc/video-generation/video-synthesis",
                     json{{"model", "wan2.7-r2v-2026-06-12"},
                          {"input", {{"prompt", "Image 1 waves"},
                                     {"media", {{{"type", "reference_image"}, {"url", frame}},
                                                {{"type", "first_frame"}, {"url", last}}}}}},
                          {"parameters", {{"duration", 2}, {"resolution", "720P"}}}}.dump(),
                     headers);
  ASSERT_EQ(native.status, 200) << native.body;
  const json done = WaitDone(json::parse(native.body)["output"]["task_id"], 60);
  ASSERT_EQ(done["output"]["task_status"], "SUCCEEDED") << done.dump();
  EXPECT_EQ(sim_.LastCreate()["model"], "wan2.7-r2v");
  EXPECT_EQ(types(sim_.LastCreate()), (Types{"reference_image", "first_frame"}));
  EXPECT_EQ(done["usage"]["SR"], 720);
  auto video = media::ProbeVideoFile(Download(done["output"]["video_url"]));
  EXPECT_TRUE(video.ok());
}

// The DashScope dialect, as Alibaba's SDKs call it: here served by the local provider.
TEST_F(DashScopeE2E, DashScopeDialectCreateQueryCancelShapes) {
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "4", "--providers-testpattern-step-delay-ms", "150"});
  const std::string t2v = "/api/v1/services/aigc/video-generation/video-synthesis";
  const std::string body = R"({"model":"wan2.7-t2v","input":{"prompt":"a kitten"},
                               "parameters":{"resolution":"720P","ratio":"1:1","duration":2}})";
  const std::vector<std::string> auth = {"Authorization: Bearer " + key_, "Content-Type: application/json"};
  auto sync = Call("POST", t2v, body, auth);
  EXPECT_EQ(sync.status, 403);
  EXPECT_EQ(json::parse(sync.body)["code"], "AccessDenied");
  auto anonymous = Call("POST", t2v, body, {"X-DashScope-Async: enable"});
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(json::parse(anonymous.body)["code"], "InvalidApiKey");
  auto bad = Call("POST", t2v, R"({"model":"wan2.7-t2v","input":{"prompt":"p"},"parameters":{"duration":20}})",
                  {auth[0], auth[1], "X-DashScope-Async: enable"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["code"], "InvalidParameter");

  auto async = [&](const std::string& path, const std::string& b) {
    auto r = Call("POST", path, b, {auth[0], auth[1], "X-DashScope-Async: enable"});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  };
  const json first = async(t2v, body);
  EXPECT_EQ(first["output"]["task_status"], "PENDING");
  EXPECT_EQ(first["request_id"].get<std::string>().size(), 36u);
  const json second = async(t2v, body);
  const std::string queued = second["output"]["task_id"];
  auto cancel = Authed("POST", "/api/v1/tasks/" + queued + "/cancel");
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(WaitDone(queued)["output"]["task_status"], "CANCELED");

  const json done = WaitDone(first["output"]["task_id"]);
  ASSERT_EQ(done["output"]["task_status"], "SUCCEEDED") << done.dump();
  const std::string time = done["output"]["end_time"];
  std::string shape = time;
  for (char& c : shape) c = std::isdigit(static_cast<unsigned char>(c)) ? '9' : c;
  EXPECT_EQ(shape, "9999-99-99 99:99:99.999") << time;
  std::tm beijing{};
  ASSERT_EQ(std::sscanf(time.c_str(), "%d-%d-%d %d:%d:%d", &beijing.tm_year, &beijing.tm_mon, &beijing.tm_mday,
                        &beijing.tm_hour, &beijing.tm_min, &beijing.tm_sec), 6);
  beijing.tm_year -= 1900;
  beijing.tm_mon -= 1;
  EXPECT_NEAR(static_cast<double>(timegm(&beijing) - std::time(nullptr)), 8 * 3600, 120) << "UTC+8: " << time;
  EXPECT_EQ(done["output"]["orig_prompt"], "a kitten");
  EXPECT_EQ(done["usage"]["video_count"], 1);
  EXPECT_EQ(done["usage"]["SR"], 720);
  auto video = media::ProbeVideoFile(Download(done["output"]["video_url"]));
  ASSERT_TRUE(video.ok()) << video.error().message;
  EXPECT_EQ(video->width, 960);
  auto late_cancel = Authed("POST", "/api/v1/tasks/" + first["output"]["task_id"].get<std::string>() + "/cancel");
  EXPECT_EQ(late_cancel.status, 400);
  EXPECT_EQ(json::parse(late_cancel.body)["code"], "UnsupportedOperation");

  const json image = async("/api/v1/services/aigc/image-generation/generation",
                           R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"a fox"}]}]},
                               "parameters":{"size":"640*512","n":2}})");
  const json idone = WaitDone(image["output"]["task_id"]);
  ASSERT_EQ(idone["output"]["task_status"], "SUCCEEDED") << idone.dump();
  const json& content = idone["output"]["choices"][0]["message"]["content"];
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content[0]["type"], "image");
  auto png = media::ProbeImageFile(Download(content[1]["image"]));
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(png->width, 640);
  EXPECT_EQ(idone["usage"]["image_count"], 2);

  auto unknown = Authed("GET", "/api/v1/tasks/00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(unknown.status, 200);
  EXPECT_EQ(json::parse(unknown.body)["output"]["task_status"], "UNKNOWN");
}

}  // namespace
}  // namespace wanserve::e2e
