// Auth, isolation between keys, bad input, cancel, crash and restart, graceful shutdown.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <functional>

#include "e2e_fixture.h"

namespace wanserve::e2e {
namespace {

class RobustnessE2E : public ServerTest {};

TEST_F(RobustnessE2E, MissingWrongAndRevokedKeysGet401InEachDialectsShape) {
  StartServer();
  auto none = Call("POST", "/v1/images/generations", R"({"model":"wan-2.7-image","prompt":"x"})");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(json::parse(none.body)["error"]["type"], "authentication_error");
  auto wrong = Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})", "ws_not-a-key");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(json::parse(wrong.body)["error"], "UNAUTHORIZED");
  auto market = Call("GET", "/api/v1/jobs/recordInfo?taskId=x", "", {"x-api-key: nope"});
  EXPECT_EQ(json::parse(market.body)["code"], 401);

  auto list = testing::RunCommand({testing::WanserveBinary(), "admin", "keys", "list", "--data", data_dir_});
  ASSERT_EQ(list.exit_code, 0);
  EXPECT_EQ(list.out.find(key_), std::string::npos) << "listings never show secrets";
  const auto id_at = list.out.find("key_");
  ASSERT_NE(id_at, std::string::npos);
  const std::string key_id = list.out.substr(id_at, list.out.find(' ', id_at) - id_at);
  EXPECT_EQ(Authed("GET", "/api/v1/generations/running").status, 200);
  auto revoke = testing::RunCommand({testing::WanserveBinary(), "admin", "keys", "revoke", "--data", data_dir_, key_id});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  // Accepted keys are cached for 1 s (auth.key_cache_ms): revocation applies within it.
  int status = 0;
  for (int i = 0; i < 40 && status != 401; ++i) {
    status = Authed("GET", "/api/v1/generations/running").status;
    if (status != 401) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 401) << "revocation applies to a running server within the key cache time";
}

TEST_F(RobustnessE2E, AnotherKeysTaskIsNotFoundInEveryDialect) {
  StartServer();
  const std::string other = testing::CreateKey(data_dir_, "other");
  json u = json::parse(Authed("POST", "/v1/images/generations",
                              R"({"model":"wan-2.7-image","prompt":"x","size":"square"})").body);
  json s = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})").body);
  json m = json::parse(Authed("POST", "/api/v1/jobs/createTask", R"({"model":"wan/2-7-image","input":{"prompt":"x","resolution":"1K"}})").body);
  EXPECT_EQ(Authed("GET", "/v1/tasks/" + u["id"].get<std::string>(), "", other).status, 404);
  EXPECT_EQ(Authed("POST", "/v1/tasks/" + u["id"].get<std::string>() + "/cancel", "", other).status, 404);
  EXPECT_EQ(Authed("GET", "/api/v1/generation/" + s["id"].get<std::string>(), "", other).status, 404);
  const std::string mid = m["data"]["taskId"];
  EXPECT_EQ(json::parse(Authed("GET", "/api/v1/jobs/recordInfo?taskId=" + mid, "", other).body)["code"], 404);
  EXPECT_EQ(Authed("GET", "/v1/tasks/task-unified-1-abcdefgh").status, 404);
  EXPECT_EQ(Authed("GET", "/v1/tasks/not-an-id").status, 400);
}

TEST_F(RobustnessE2E, BadBodiesGetClearErrorsInTheDialectsShape) {
  StartServer();
  auto bad_json = Authed("POST", "/v1/videos/generations", R"({"model": "wan2.7-text-to-video", "prompt": )");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(json::parse(bad_json.body)["error"]["param"], "body");
  auto not_object = Authed("POST", "/api/v1/generation/wan/wan-v2.7", "[1,2]");
  EXPECT_EQ(not_object.status, 400);
  EXPECT_EQ(json::parse(not_object.body)["code"], "IMAGE_GENERATION_INVALID_INPUT");
  auto bad_utf8 = Authed("POST", "/api/v1/generation/wan/wan-v2.7", "{\"prompt\":\"\xC0\xAF\"}");
  EXPECT_EQ(bad_utf8.status, 400);
  auto huge = Authed("POST", "/v1/videos/generations",
                     R"({"model":"wan2.7-text-to-video","prompt":"x","duration":1e999})");
  EXPECT_EQ(huge.status, 400);
  auto wrong_type = Authed("POST", "/v1/videos/generations", R"({"model":"wan2.7-text-to-video","prompt":"x","duration":"5"})");
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(json::parse(wrong_type.body)["error"]["param"], "duration");
  auto unknown_model = Authed("POST", "/api/v1/generation/wan/wan-v9");
  EXPECT_EQ(json::parse(unknown_model.body)["code"], "IMAGE_GENERATION_UNSUPPORTED_MODEL");
  auto market_bad = Authed("POST", "/api/v1/jobs/createTask", "nope");
  EXPECT_EQ(json::parse(market_bad.body)["code"], 422);
  // Deep nesting is refused before any tree is built (it cost ~250 MB per request before).
  const std::string deep(1000 * 1024, '[');
  for (const std::string path : {"/v1/images/generations", "/api/v1/generation/wan/wan-v2.7"}) {
    auto nested = Authed("POST", path, deep);
    EXPECT_EQ(nested.status, 400) << path;
    EXPECT_NE(nested.body.find("deeper than 64 levels"), std::string::npos) << nested.body;
  }

  const std::string big(1536 * 1024, 'a');
  auto too_big = Authed("POST", "/v1/images/generations", R"({"model":"wan-2.7-image","prompt":")" + big + "\"}");
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(json::parse(too_big.body)["error"]["type"], "request_too_large_error");
  auto too_big_skills = Authed("POST", "/api/v1/generation/wan/wan-v2.7/edit-video", big);
  EXPECT_EQ(too_big_skills.status, 413);
  EXPECT_EQ(json::parse(too_big_skills.body)["code"], "VIDEO_GENERATION_PAYLOAD_TOO_LARGE");

  EXPECT_EQ(Call("GET", "/files/..%2f..%2fsecret?exp=9999999999&sig=00").status, 404);
  EXPECT_EQ(Call("GET", "/files/0123456789abcdef0123456789abcdef.png%00.png?exp=1&sig=0").status, 404);
  EXPECT_EQ(Call("GET", "/nope").status, 404);
  EXPECT_EQ(Call("DELETE", "/healthz").status, 405);
  // Nothing above created a task.
  auto running = json::parse(Authed("GET", "/api/v1/generations/running").body);
  EXPECT_TRUE(running.empty());
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(RobustnessE2E, ABodyThatClaimsAnotherContentTypeIsRefusedInEachDialectsShape) {
  StartServer();
  const std::string auth = "Authorization: Bearer " + key_;
  const std::string form = "Content-Type: application/x-www-form-urlencoded";  // curl -d without -H
  struct Probe {
    std::string path, body;
    std::vector<std::string> extra;
    std::function<bool(const json&)> shape;
  };
  const std::vector<Probe> probes = {
      {"/v1/images/generations", R"({"model":"wan-2.7-image","prompt":"a lamp"})", {},
       [](const json& j) { return j["error"]["param"] == "Content-Type"; }},
      {"/api/v1/generation/wan/wan-v2.7", R"({"prompt":"a lamp"})", {},
       [](const json& j) { return j["code"] == "IMAGE_GENERATION_INVALID_INPUT"; }},
      {"/api/v1/jobs/createTask", R"({"model":"wan/2-7-image","input":{"prompt":"a lamp"}})", {},
       [](const json& j) { return j["code"] == 422; }},
      {"/api/v1/services/aigc/image-generation/generation",
       R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"a lamp"}]}]}})",
       {"X-DashScope-Async: enable"}, [](const json& j) { return j["code"] == "InvalidParameter"; }},
  };
  for (const auto& p : probes) {
    std::vector<std::string> headers = {auth, form};
    headers.insert(headers.end(), p.extra.begin(), p.extra.end());
    const auto refused = Call("POST", p.path, p.body, headers);
    EXPECT_EQ(refused.status, p.path.starts_with("/api/v1/jobs") ? 200 : 400) << p.path << ": " << refused.body;
    const json body = json::parse(refused.body);
    EXPECT_TRUE(p.shape(body)) << p.path << ": " << refused.body;
    EXPECT_NE(refused.body.find("Content-Type must be application/json"), std::string::npos) << refused.body;
    // The same body with the JSON type and a charset, or with no type at all, is taken. (libcurl
    // would add the form type to a body sent without one; "Content-Type:" removes it.)
    for (const std::string type : {"Content-Type: application/json; charset=utf-8", "Content-Type:"}) {
      headers = {auth, type};
      headers.insert(headers.end(), p.extra.begin(), p.extra.end());
      EXPECT_EQ(Call("POST", p.path, p.body, headers).status, 200) << p.path << " with '" << type << "'";
    }
  }
  // Only the accepted bodies made tasks: four of them, twice each.
  const std::string metrics = Call("GET", "/metrics").body;
  double tasks = 0;
  for (size_t at = 0; (at = metrics.find("\nwanserve_tasks{state=", at)) != std::string::npos; ++at) {
    const size_t end = metrics.find('\n', at + 1);
    tasks += std::stod(metrics.substr(metrics.rfind(' ', end) + 1, end - metrics.rfind(' ', end) - 1));
  }
  EXPECT_EQ(tasks, 8) << metrics;
}

TEST_F(RobustnessE2E, CancelQueuedAtOnceRunningAtNextStepFinishedIsAConflict) {
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "100", "--providers-testpattern-step-delay-ms", "100",
               "--workers-count", "1", "--workers-renew-every-ms", "100"});
  const std::string body = R"({"model":"wan-2.7-image","prompt":"x","size":"square"})";
  const std::string first = json::parse(Authed("POST", "/v1/images/generations", body).body)["id"];
  const std::string second = json::parse(Authed("POST", "/v1/images/generations", body).body)["id"];
  const std::string gen = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})").body)["id"];
  const std::string job = json::parse(Authed("POST", "/api/v1/jobs/createTask",
                                             R"({"model":"wan/2-7-image","input":{"prompt":"x","resolution":"1K"}})").body)["data"]["taskId"];
  for (int i = 0; i < 200 && json::parse(Authed("GET", "/v1/tasks/" + first).body)["status"] != "processing"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // One worker is busy with `first` for 10 s, so the others are still queued.
  auto c2 = json::parse(Authed("POST", "/v1/tasks/" + second + "/cancel").body);
  EXPECT_EQ(c2["status"], "failed");
  EXPECT_EQ(c2["error"]["code"], "request_cancelled");
  EXPECT_EQ(json::parse(Authed("POST", "/api/v1/generation/" + gen + "/cancel").body)["status"], "CANCELED");
  EXPECT_EQ(Authed("POST", "/api/v1/generation/" + gen + "/cancel").status, 409);
  EXPECT_EQ(json::parse(Authed("POST", "/api/v1/jobs/cancelTask?taskId=" + job).body)["code"], 200);
  EXPECT_EQ(json::parse(Authed("GET", "/api/v1/jobs/recordInfo?taskId=" + job).body)["data"]["state"], "fail");
  EXPECT_EQ(json::parse(Authed("POST", "/api/v1/jobs/cancelTask?taskId=" + job).body)["code"], 422);

  auto c1 = Authed("POST", "/v1/tasks/" + first + "/cancel");
  EXPECT_EQ(c1.status, 200);
  json done = WaitDone(first, 20);
  EXPECT_EQ(done["error"]["code"], "request_cancelled");
  EXPECT_LT(done["progress"].get<int>(), 95) << "stopped mid-run, not run to the end";
  EXPECT_EQ(Authed("POST", "/v1/tasks/" + first + "/cancel").status, 409);
}

TEST_F(RobustnessE2E, Kill9MidRunLosesNoTaskAndRunsNoneTwiceToSuccess) {
  const std::vector<std::string> flags = {"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "3", "--providers-testpattern-step-delay-ms",
                                          "60", "--workers-count", "2", "--workers-lease-ms", "1500",
                                          "--workers-renew-every-ms", "200", "--workers-recovery-every-ms", "200"};
  StartServer(flags);
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto r = Authed("POST", "/v1/images/generations",
                    R"({"model":"wan-2.7-image","prompt":"crash )" + std::to_string(i) + R"(","size":{"width":256,"height":256}})");
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(json::parse(r.body)["id"]);
  }
  // Let some finish and some be mid-run, then crash.
  for (int i = 0; i < 400; ++i) {
    if (json::parse(Authed("GET", "/v1/tasks/" + ids[8]).body)["status"] == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  RestartServer(SIGKILL, flags);
  size_t outputs = 0;
  for (const auto& id : ids) {
    json done = WaitDone(id, 120);
    ASSERT_EQ(done["status"], "completed") << done.dump();
    outputs += done["results"].size();
  }
  EXPECT_EQ(outputs, ids.size());
  // Every stored file comes to belong to exactly one recorded output: what an attempt cut by
  // the kill stored is swept once the next attempt has recorded the task.
  auto count_files = [&] {
    size_t files = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(std::filesystem::path(data_dir_) / "blobs")) {
      if (e.is_regular_file() && e.path().parent_path().filename() != "tmp") ++files;
    }
    return files;
  };
  size_t files = count_files();
  for (int i = 0; i < 100 && files != outputs; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    files = count_files();
  }
  EXPECT_EQ(files, outputs);
}

TEST_F(RobustnessE2E, SigtermFinishesRequestsAndRequeuesRunningTasks) {
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "200", "--providers-testpattern-step-delay-ms", "50"});
  const std::string id = json::parse(Authed("POST", "/v1/images/generations",
                                            R"({"model":"wan-2.7-image","prompt":"x","size":"square"})").body)["id"];
  for (int i = 0; i < 200 && json::parse(Authed("GET", "/v1/tasks/" + id).body)["status"] != "processing"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int status = server_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  server_ = std::make_unique<testing::ServerProcess>(
      data_dir_, std::vector<std::string>{"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2", "--providers-testpattern-step-delay-ms", "0"});
  json done = WaitDone(id, 60);
  EXPECT_EQ(done["status"], "completed") << "a task running at shutdown resumes at once after restart";
}

TEST_F(RobustnessE2E, UnknownConfigKeyIsAStartupError) {
  const auto cfg = dir_.path() / "wanserve.toml";
  std::ofstream(cfg) << "listen = \"127.0.0.1:0\"\n[http]\nbody_limt = 5\n";
  auto r = testing::RunCommand({testing::WanserveBinary(), "serve", "--config", cfg.string(), "--data", data_dir_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key 'http.body_limt'"), std::string::npos) << r.err;
  std::ofstream(cfg, std::ios::trunc) << "[pricing]\nper_imag = 5\n";
  r = testing::RunCommand({testing::WanserveBinary(), "serve", "--config", cfg.string(), "--data", data_dir_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown key 'pricing.per_imag'"), std::string::npos) << r.err;
  std::ofstream(cfg, std::ios::trunc) << "[pricing.per_image]\n\"wan2.7-image\" = -1\n";
  r = testing::RunCommand({testing::WanserveBinary(), "serve", "--config", cfg.string(), "--data", data_dir_});
  EXPECT_EQ(r.exit_code, 2);
  // A device the engine cannot name is refused at start-up, not at the first local task.
  std::ofstream(cfg, std::ios::trunc) << "[providers.local]\nmodel = \"tiny\"\ndevice = \"gpu0\"\n";
  r = testing::RunCommand({testing::WanserveBinary(), "serve", "--config", cfg.string(), "--data", data_dir_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("providers.local.device: gpu0 is not auto, cpu, cuda or cuda:N"), std::string::npos) << r.err;
  // The store's settings, by value.
  for (const auto& [line, why] : std::vector<std::pair<std::string, std::string>>{
           {"role = \"gpu\"\n", "role must be api, worker or all"},
           {"[store]\nsynchronous = \"paranoid\"\n", "store.synchronous must be normal or full"},
           {"[store]\nurl = \"mysql://db/x\"\n", "store.url must be a postgresql:// URL"}}) {
    std::ofstream(cfg, std::ios::trunc) << line;
    r = testing::RunCommand({testing::WanserveBinary(), "serve", "--config", cfg.string(), "--data", data_dir_});
    EXPECT_NE(r.exit_code, 0) << line;
    EXPECT_NE((r.err + r.out).find(why), std::string::npos) << line << r.err << r.out;
  }
}

TEST_F(RobustnessE2E, ConfigFileAndMetrics) {
  const auto cfg = dir_.path() / "wanserve.toml";
  std::ofstream(cfg) << "[http]\nbody_limit = 2048\n[providers.testpattern]\nenabled = true\nstep_delay_ms = 0\nsteps = 1\n";
  StartServer({"--config", cfg.string()});
  auto big = Authed("POST", "/v1/images/generations", std::string(3000, ' '));
  EXPECT_EQ(big.status, 413) << "body_limit from the file applies";
  const std::string id = json::parse(Authed("POST", "/v1/images/generations",
                                            R"({"model":"wan-2.7-image","prompt":"m","size":"square"})").body)["id"];
  WaitDone(id);
  auto metrics = Call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("wanserve_tasks{state=\"succeeded\"} 1"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("wanserve_http_requests_total{route=\"/v1/images/generations\",method=\"POST\",code=\"413\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("wanserve_task_duration_seconds_count"), std::string::npos);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
}

}  // namespace
}  // namespace wanserve::e2e
