// The failure-code table of docs/dialects.md, end to end: each class of failure (input
// unreachable, input invalid, image undecodable, content rejected, generation failed, timeout,
// canceled) through each dialect, read where that dialect's clients read it.
#include <fmt/format.h>

#include <csignal>
#include <fstream>
#include <map>
#include <thread>

#include "dashscope_sim/simulator.h"
#include "e2e_fixture.h"
#include "testing/loopback_http_server.h"

namespace wanserve::e2e {
namespace {

enum class Dialect { kSkills, kUnified, kMarket, kDashScope };
constexpr Dialect kDialects[] = {Dialect::kSkills, Dialect::kUnified, Dialect::kMarket, Dialect::kDashScope};

std::string Name(Dialect d) {
  switch (d) {
    case Dialect::kSkills: return "skills_video";
    case Dialect::kUnified: return "unified";
    case Dialect::kMarket: return "market";
    case Dialect::kDashScope: return "dashscope";
  }
  return "";
}

class FailureCodesE2E : public ServerTest {
 protected:
  // An image edit (text-to-image without url) in the dialect's shape; the task id.
  std::string SubmitImage(Dialect d, const std::string& prompt, const std::string& url = "") {
    std::vector<std::string> headers = {"Authorization: Bearer " + key_, "Content-Type: application/json"};
    std::string path;
    json body;
    switch (d) {
      case Dialect::kSkills:
        path = "/api/v1/generation/wan/wan-v2.7";
        body = {{"prompt", prompt}};
        if (!url.empty()) body["image_urls"] = {url};
        break;
      case Dialect::kUnified:
        path = "/v1/images/generations";
        body = {{"model", "wan-2.7-image"}, {"prompt", prompt}, {"size", {{"width", 320}, {"height", 256}}}};
        if (!url.empty()) body["image_urls"] = {url};
        break;
      case Dialect::kMarket:
        path = "/api/v1/jobs/createTask";
        body = {{"model", "wan/2-7-image"}, {"input", {{"prompt", prompt}, {"resolution", "1K"}}}};
        if (!url.empty()) body["input"]["input_urls"] = {url};
        break;
      case Dialect::kDashScope: {
        path = "/api/v1/services/aigc/image-generation/generation";
        json content = json::array();
        if (!url.empty()) content.push_back({{"image", url}});
        content.push_back({{"text", prompt}});
        body = {{"model", "wan2.7-image"},
                {"input", {{"messages", {{{"role", "user"}, {"content", content}}}}}},
                {"parameters", {{"size", "640*512"}}}};
        headers.push_back("X-DashScope-Async: enable");
        break;
      }
    }
    auto r = Call("POST", path, body.dump(), headers);
    EXPECT_EQ(r.status, 200) << Name(d) << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    if (d == Dialect::kMarket) return j["data"].value("taskId", "");
    if (d == Dialect::kDashScope) return j["output"].value("task_id", "");
    return j.value("id", "");
  }

  // Where the dialect's clients read a failed or canceled task's code.
  static std::string FailureCode(Dialect d, const json& done) {
    switch (d) {
      case Dialect::kSkills: return done["status"] == "CANCELED" ? "CANCELED" : done.value("code", "");
      case Dialect::kUnified: return done["error"].value("code", "");
      case Dialect::kMarket: return done["data"].value("failCode", "");
      case Dialect::kDashScope:
        return done["output"]["task_status"] == "CANCELED" ? "CANCELED" : done["output"].value("code", "");
    }
    return "";
  }

  std::string Cancel(Dialect d, const std::string& id) {
    switch (d) {
      case Dialect::kSkills: return Authed("POST", "/api/v1/generation/" + id + "/cancel").body;
      case Dialect::kUnified: return Authed("POST", "/v1/tasks/" + id + "/cancel").body;
      case Dialect::kMarket: return Authed("POST", "/api/v1/jobs/cancelTask?taskId=" + id).body;
      case Dialect::kDashScope: return Authed("POST", "/api/v1/tasks/" + id + "/cancel").body;
    }
    return "";
  }

  std::string Picture(int width, int height) {
    const std::string path = (dir_.path() / fmt::format("{}x{}.png", width, height)).string();
    EXPECT_EQ(testing::RunCommand({"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                   fmt::format("testsrc2=size={}x{}", width, height), "-frames:v", "1", path})
                  .exit_code,
              0);
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
};

TEST_F(FailureCodesE2E, InputFailuresInEachDialectsWords) {
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2",
               "--providers-testpattern-step-delay-ms", "0", "--allow-network", "127.0.0.1/32"});
  const std::string tiny = Picture(100, 100);
  testing::LoopbackHttpServer origin([&](const testing::ReceivedRequest& req, int) {
    if (req.target == "/tiny.png") return testing::ScriptedResponse{200, {{"Content-Type", "image/png"}}, tiny};
    if (req.target == "/garbage.png") {
      return testing::ScriptedResponse{200, {{"Content-Type", "image/png"}}, std::string("\x89PNG\r\n\x1a\n broken", 16)};
    }
    return testing::ScriptedResponse{404, {}, "not found"};
  });
  const struct {
    std::string path;
    std::string skills, unified, market, dashscope;
  } rows[] = {
      {"/missing.png", "IMAGE_GENERATION_INVALID_INPUT", "image_processing_error", "422", "InvalidParameter"},
      {"/garbage.png", "IMAGE_GENERATION_INVALID_INPUT", "image_processing_error", "422", "InvalidParameter"},
      {"/tiny.png", "IMAGE_GENERATION_INVALID_INPUT", "invalid_parameters", "422", "InvalidParameter"},
  };
  for (const auto& row : rows) {
    const std::map<Dialect, std::string> expected = {{Dialect::kSkills, row.skills},
                                                     {Dialect::kUnified, row.unified},
                                                     {Dialect::kMarket, row.market},
                                                     {Dialect::kDashScope, row.dashscope}};
    for (Dialect d : kDialects) {
      const std::string id = SubmitImage(d, "edit " + row.path, origin.Url(row.path));
      ASSERT_FALSE(id.empty());
      const json done = WaitDone(id);
      EXPECT_EQ(FailureCode(d, done), expected.at(d)) << Name(d) << " " << row.path << ": " << done.dump();
      EXPECT_NE(done.dump().find("image"), std::string::npos) << "the message names the input: " << done.dump();
    }
  }
}

TEST_F(FailureCodesE2E, CanceledInEachDialectsWords) {
  // One worker busy with a slow task keeps the others queued, where every dialect cancels.
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "20",
               "--providers-testpattern-step-delay-ms", "200", "--workers-count", "1"});
  const std::string blocker = SubmitImage(Dialect::kUnified, "blocker");
  const std::map<Dialect, std::string> expected = {{Dialect::kSkills, "CANCELED"},
                                                   {Dialect::kUnified, "request_cancelled"},
                                                   {Dialect::kMarket, "cancelled"},
                                                   {Dialect::kDashScope, "CANCELED"}};
  for (Dialect d : kDialects) {
    const std::string id = SubmitImage(d, "canceled in " + Name(d));
    Cancel(d, id);
    const json done = WaitDone(id, 30);
    EXPECT_EQ(FailureCode(d, done), expected.at(d)) << Name(d) << ": " << done.dump();
  }
  Cancel(Dialect::kUnified, blocker);
}

TEST_F(FailureCodesE2E, UpstreamFailuresInEachDialectsWords) {
  testing::DashScopeSimulator sim(testing::SimOptions{"sk-sim-0123456789", 100, 200});
  const std::string key_file = (dir_.path() / "dashscope.key").string();
  std::ofstream(key_file) << "sk-sim-0123456789\n";
  const std::vector<std::string> flags = {"--providers-dashscope-base-url", sim.BaseUrl(), "--providers-dashscope-api-key-file",
                                          key_file, "--providers-dashscope-poll-schedule-s", "0.1", "--allow-network",
                                          "127.0.0.0/8"};
  StartServer(flags);
  const struct {
    std::string upstream_code;
    std::string skills, unified, market, dashscope;
  } rows[] = {
      {"DataInspectionFailed", "IMAGE_GENERATION_CONTENT_REJECTED", "content_policy_violation", "501",
       "DataInspectionFailed"},
      {"InternalError", "IMAGE_GENERATION_FAILED", "generation_failed_no_content", "501", "InternalError"},
  };
  for (const auto& row : rows) {
    testing::SimFaults faults;
    faults.fail_code = row.upstream_code;
    sim.SetFaults(faults);
    const std::map<Dialect, std::string> expected = {{Dialect::kSkills, row.skills},
                                                     {Dialect::kUnified, row.unified},
                                                     {Dialect::kMarket, row.market},
                                                     {Dialect::kDashScope, row.dashscope}};
    for (Dialect d : kDialects) {
      const json done = WaitDone(SubmitImage(d, row.upstream_code + " in " + Name(d)));
      EXPECT_EQ(FailureCode(d, done), expected.at(d)) << Name(d) << " " << row.upstream_code << ": " << done.dump();
    }
  }

  // A task that outlives the provider's task timeout.
  testing::DashScopeSimulator stuck(testing::SimOptions{"sk-sim-0123456789", 60'000, 1000});
  std::vector<std::string> slow = flags;
  slow[1] = stuck.BaseUrl();
  slow.insert(slow.end(), {"--providers-dashscope-task-timeout-s", "1"});
  RestartServer(SIGTERM, slow);
  std::map<Dialect, std::string> ids;
  for (Dialect d : kDialects) ids[d] = SubmitImage(d, "stuck in " + Name(d));
  const std::map<Dialect, std::string> expected = {{Dialect::kSkills, "IMAGE_GENERATION_TIMEOUT"},
                                                   {Dialect::kUnified, "generation_timeout"},
                                                   {Dialect::kMarket, "501"},
                                                   {Dialect::kDashScope, "RequestTimeOut"}};
  for (Dialect d : kDialects) {
    const json done = WaitDone(ids[d], 60);
    EXPECT_EQ(FailureCode(d, done), expected.at(d)) << Name(d) << ": " << done.dump();
  }
}

}  // namespace
}  // namespace wanserve::e2e
