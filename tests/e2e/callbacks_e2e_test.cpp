// Completion callbacks through the real binary: an HTTPS receiver on loopback (a throwaway CA,
// its address alone allowlisted) checks each dialect's body, headers and signatures, retries,
// submit-time refusals, and delivery after kill -9.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "callbacks/signature.h"
#include "e2e_fixture.h"
#include "testing/loopback_http_server.h"
#include "testing/test_pki.h"

namespace wanserve::e2e {
namespace {

using testing::LoopbackHttpServer;
using testing::ReceivedRequest;
using testing::ScriptedResponse;

class CallbacksE2E : public ServerTest {
 protected:
  CallbacksE2E() : pki_(testing::MakeTestPki(dir_.str())) {}

  std::vector<std::string> Flags(std::vector<std::string> more = {}) {
    std::vector<std::string> flags = {"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2", "--providers-testpattern-step-delay-ms", "0",
                                      "--allow-network", "127.0.0.1/32", "--outbound-ca-file", pki_.ca_file};
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  }

  std::string Secret() {
    auto shown = testing::RunCommand({testing::WanserveBinary(), "admin", "accounts", "show", "--data", data_dir_,
                                      "acct_default"});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    const auto at = shown.out.find("whsec_");
    return shown.out.substr(at, shown.out.find('\n', at) - at);
  }

  static bool SignedBy(const std::string& secret, const ReceivedRequest& r) {
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    return callbacks::VerifyStandardWebhook(secret, r.headers.at("webhook-id"), r.headers.at("webhook-timestamp"),
                                            r.body, r.headers.at("webhook-signature"), now);
  }

  testing::TestPki pki_;
};

TEST_F(CallbacksE2E, EachDialectGetsItsBodySignedAfterTheTaskFinished) {
  LoopbackHttpServer receiver([](const ReceivedRequest&, int) { return ScriptedResponse(200); }, &pki_);
  StartServer(Flags());
  // skills_video has no per-request callback: its endpoint is the account's (a dashboard setting there).
  auto set = testing::RunCommand({testing::WanserveBinary(), "admin", "accounts", "set-webhook", "--data", data_dir_,
                                  "acct_default", "--url", receiver.Url("/account-hook"), "--allow-network", "127.0.0.1/32"});
  ASSERT_EQ(set.exit_code, 0) << set.err;

  auto unified = json::parse(Authed("POST", "/v1/images/generations",
                                    json{{"model", "wan-2.7-image"}, {"prompt", "a fox"},
                                         {"callback_url", receiver.Url("/unified")}}.dump()).body);
  auto market = json::parse(Authed("POST", "/api/v1/jobs/createTask",
                                   json{{"model", "wan/2-7-image"}, {"callBackUrl", receiver.Url("/market")},
                                        {"input", {{"prompt", "a fox"}}}}.dump()).body);
  auto skills = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"a fox"})").body);
  const std::string unified_id = unified["id"], market_id = market["data"]["taskId"], skills_id = skills["id"];
  WaitDone(unified_id);
  WaitDone(market_id);
  WaitDone(skills_id);
  ASSERT_TRUE(receiver.WaitForRequests(3, 15'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  const std::string secret = Secret();
  std::map<std::string, ReceivedRequest> by_path;
  for (const auto& r : receiver.Requests()) by_path[r.target] = r;
  ASSERT_EQ(by_path.size(), 3u) << "one delivery each, nothing repeated";
  for (const auto& [path, r] : by_path) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_TRUE(r.headers.at("webhook-id").starts_with("msg_"));
    EXPECT_TRUE(SignedBy(secret, r)) << path;
  }

  // unified: exactly the task query's JSON.
  const auto& u = by_path.at("/unified");
  EXPECT_EQ(json::parse(u.body), json::parse(Authed("GET", "/v1/tasks/" + unified_id).body));
  EXPECT_EQ(json::parse(u.body)["status"], "completed");

  // market: the recordInfo envelope with both id spellings, plus kie's own signature headers.
  const auto& m = by_path.at("/market");
  auto mb = json::parse(m.body);
  EXPECT_EQ(mb["code"], 200);
  EXPECT_EQ(mb["data"]["taskId"], market_id);
  EXPECT_EQ(mb["data"]["task_id"], market_id);
  EXPECT_EQ(mb["data"]["state"], "success");
  EXPECT_EQ(m.headers.at("x-webhook-signature"),
            callbacks::KieSignature(secret, market_id, std::stoll(m.headers.at("x-webhook-timestamp"))));

  // skills_video: a Standard Webhooks event around the generation.
  auto sb = json::parse(by_path.at("/account-hook").body);
  EXPECT_EQ(sb["type"], "task.completed");
  EXPECT_TRUE(sb["id"].get<std::string>().starts_with("evt_"));
  EXPECT_EQ(sb["prediction"]["id"], skills_id);
  EXPECT_EQ(sb["prediction"]["state"], "succeeded");
  EXPECT_EQ(sb["prediction"]["status"], "COMPLETED");
  EXPECT_EQ(sb["prediction"]["data"]["images"].size(), 1u);

  auto listed = testing::RunCommand({testing::WanserveBinary(), "admin", "callbacks", "list", "--data", data_dir_,
                                     "--task", unified_id});
  EXPECT_NE(listed.out.find("delivered"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(" 200 "), std::string::npos) << listed.out;
}

TEST_F(CallbacksE2E, SubmitRefusesCallbacksAndMediaThatPointInside) {
  StartServer(Flags());
  auto internal = Authed("POST", "/v1/videos/generations",
                         json{{"model", "wan2.7-text-to-video"}, {"prompt", "x"},
                              {"callback_url", "https://10.0.0.1/hook"}}.dump());
  EXPECT_EQ(internal.status, 400);
  EXPECT_EQ(json::parse(internal.body)["error"]["param"], "callback_url");
  EXPECT_NE(json::parse(internal.body)["error"]["message"].get<std::string>().find("private"), std::string::npos);

  auto odd = Authed("POST", "/api/v1/jobs/createTask",
                    json{{"model", "wan/2-7-image"}, {"callBackUrl", "https://0x7f000002/cb"},
                         {"input", {{"prompt", "x"}}}}.dump());
  auto ob = json::parse(odd.body);
  EXPECT_NE(ob["code"], 200);
  EXPECT_NE(ob["msg"].get<std::string>().find("callBackUrl"), std::string::npos) << ob.dump();

  auto metadata = Authed("POST", "/api/v1/generation/wan/wan-v2.7",
                         json{{"prompt", "x"}, {"image_urls", {"https://example.com/a.png",
                                                               "http://169.254.169.254/latest/meta-data"}}}.dump());
  EXPECT_EQ(metadata.status, 400);
  EXPECT_NE(json::parse(metadata.body)["message"].get<std::string>().find("image_urls[1]"), std::string::npos)
      << metadata.body;

  auto plain = Authed("POST", "/v1/images/generations",
                      json{{"model", "wan-2.7-image"}, {"prompt", "x"}, {"callback_url", "http://example.com/cb"}}.dump());
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(json::parse(plain.body)["error"]["param"], "callback_url");
}

// allow_network may open one port of an internal address (or a host name): the receiver's port
// is reached, the same address on another port is refused at submit and when an account's
// webhook is set.
TEST_F(CallbacksE2E, AnAllowlistEntryWithAPortOpensThatPortAlone) {
  LoopbackHttpServer receiver([](const ReceivedRequest&, int) { return ScriptedResponse(200); }, &pki_);
  const std::string opened = "127.0.0.1:" + std::to_string(receiver.port());
  const std::string other = "https://127.0.0.1:" + std::to_string(receiver.port() == 65535 ? 1 : receiver.port() + 1);
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2",
               "--providers-testpattern-step-delay-ms", "0", "--allow-network", opened, "--outbound-ca-file",
               pki_.ca_file});
  auto refused = Authed("POST", "/v1/images/generations",
                        json{{"model", "wan-2.7-image"}, {"prompt", "x"}, {"callback_url", other + "/hook"}}.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(json::parse(refused.body)["error"]["param"], "callback_url");
  auto task = json::parse(Authed("POST", "/v1/images/generations",
                                 json{{"model", "wan-2.7-image"}, {"prompt", "x"},
                                      {"callback_url", receiver.Url("/hook")}}.dump()).body);
  WaitDone(task["id"]);
  ASSERT_TRUE(receiver.WaitForRequests(1, 15'000)) << "the opened port is reached";

  const auto set = [&](const std::string& url) {
    return testing::RunCommand({testing::WanserveBinary(), "admin", "accounts", "set-webhook", "--data", data_dir_,
                                "acct_default", "--url", url, "--allow-network", opened});
  };
  EXPECT_EQ(set(receiver.Url("/account")).exit_code, 0);
  const auto blocked = set(other + "/account");
  EXPECT_NE(blocked.exit_code, 0);
  EXPECT_NE(blocked.err.find("internal"), std::string::npos) << blocked.err;
}

TEST_F(CallbacksE2E, AReceiverThatFailsTwiceSeesThreeAttemptsAtOneAndTwoSeconds) {
  LoopbackHttpServer receiver([](const ReceivedRequest&, int i) { return ScriptedResponse(i < 2 ? 500 : 200); }, &pki_);
  StartServer(Flags());
  auto task = json::parse(Authed("POST", "/v1/images/generations",
                                 json{{"model", "wan-2.7-image"}, {"prompt", "x"},
                                      {"callback_url", receiver.Url("/hook")}}.dump()).body);
  WaitDone(task["id"]);
  ASSERT_TRUE(receiver.WaitForRequests(3, 15'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 3u);
  // Never early; late only by what a loaded machine adds to a connection (the sanitizer build
  // runs beside other end-to-end tests on two cores and has been seen 0.5 s late).
  const int64_t first_gap = got[1].received_ms - got[0].received_ms;
  const int64_t second_gap = got[2].received_ms - got[1].received_ms;
  EXPECT_GE(first_gap, 950);
  EXPECT_LE(first_gap, 2000);
  EXPECT_GE(second_gap, 1950);
  EXPECT_LE(second_gap, 3000);
  EXPECT_EQ(got[0].headers.at("webhook-id"), got[2].headers.at("webhook-id"));
  EXPECT_EQ(json::parse(Authed("GET", "/v1/tasks/" + task["id"].get<std::string>()).body)["status"], "completed");
}

TEST_F(CallbacksE2E, ADeliveryCutByKill9IsSentAgainAfterRestartWithTheSameId) {
  // The first attempt hangs; the server dies during it, after the task finished and before
  // any delivery was recorded.
  LoopbackHttpServer receiver(
      [](const ReceivedRequest&, int i) { return i == 0 ? ScriptedResponse(200, {}, "", 6000) : ScriptedResponse(200); },
      &pki_);
  StartServer(Flags({"--callbacks-timeout-s", "2"}));
  auto task = json::parse(Authed("POST", "/v1/images/generations",
                                 json{{"model", "wan-2.7-image"}, {"prompt", "x"},
                                      {"callback_url", receiver.Url("/hook")}}.dump()).body);
  ASSERT_TRUE(receiver.WaitForRequests(1, 15'000));
  RestartServer(SIGKILL, Flags({"--callbacks-timeout-s", "2"}));
  ASSERT_TRUE(receiver.WaitForRequests(2, 20'000)) << "the outbox survives the crash";
  auto got = receiver.Requests();
  EXPECT_EQ(got[0].headers.at("webhook-id"), got[1].headers.at("webhook-id"));
  EXPECT_EQ(json::parse(got[1].body)["id"], task["id"]);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto listed = testing::RunCommand({testing::WanserveBinary(), "admin", "callbacks", "list", "--data", data_dir_,
                                     "--task", task["id"].get<std::string>()});
  EXPECT_NE(listed.out.find("delivered"), std::string::npos) << listed.out;
}

TEST_F(CallbacksE2E, AnOutageLongerThanTheSeedsScheduleLosesNothingWhenRetriesGoOn) {
  // Down for the first three attempts, past the schedule (here one retry at 1 s): the first
  // at 0 s, the schedule's at 1 s, the first longer one at 3 s; back by the next at 7 s.
  LoopbackHttpServer receiver([](const ReceivedRequest&, int i) { return ScriptedResponse(i < 3 ? 503 : 200); }, &pki_);
  StartServer(Flags({"--callbacks-retry-schedule-s", "1", "--callbacks-retry-for-s", "60"}));
  auto task = json::parse(Authed("POST", "/v1/images/generations",
                                 json{{"model", "wan-2.7-image"}, {"prompt", "x"},
                                      {"callback_url", receiver.Url("/hook")}}.dump()).body);
  WaitDone(task["id"]);
  ASSERT_TRUE(receiver.WaitForRequests(4, 20'000)) << "attempts at 0, 1, 3 and 7 s";
  auto got = receiver.Requests();
  EXPECT_GE(got[2].received_ms - got[1].received_ms, 1950) << "past the schedule: twice its last delay";
  EXPECT_GE(got[3].received_ms - got[2].received_ms, 3950);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto listed = testing::RunCommand({testing::WanserveBinary(), "admin", "callbacks", "list", "--data", data_dir_,
                                     "--task", task["id"].get<std::string>()});
  EXPECT_NE(listed.out.find("delivered"), std::string::npos) << listed.out;
}

TEST_F(CallbacksE2E, DeadLettersAndDisabledEndpointsAreShownAndMendedThroughTheAdminApiAndTheCli) {
  std::atomic<bool> up = false;
  LoopbackHttpServer receiver([&](const ReceivedRequest&, int) { return ScriptedResponse(up ? 200 : 500); }, &pki_);
  // One retry after a second; an endpoint failing for a second is disabled.
  StartServer(Flags({"--callbacks-retry-schedule-s", "1", "--callbacks-disable-endpoint-after-s", "1"}));
  const auto made = testing::RunCommand(
      {testing::WanserveBinary(), "admin", "tokens", "create", "--data", data_dir_, "--name", "ops"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::vector<std::string> admin = {"Authorization: Bearer " + testing::LastLine(made.out),
                                          "Content-Type: application/json"};
  auto submit = [&](const std::string& path) {
    const auto r = Authed("POST", "/v1/images/generations",
                          json{{"model", "wan-2.7-image"}, {"prompt", "x"}, {"callback_url", receiver.Url(path)}}.dump());
    return json::parse(r.body)["id"].get<std::string>();
  };
  const std::string first = submit("/hook?n=1");
  WaitDone(first);
  json endpoints;
  for (int i = 0; i < 100; ++i) {
    endpoints = json::parse(Call("GET", "/admin/v1/callbacks/endpoints", "", admin).body);
    if (!endpoints["data"].empty() && endpoints["data"][0]["disabled"] == true) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(endpoints["data"].size(), 1u) << endpoints;
  EXPECT_EQ(endpoints["data"][0]["endpoint"], receiver.Url("/hook")) << "the query is not part of it";
  EXPECT_EQ(endpoints["data"][0]["disabled"], true) << endpoints;
  EXPECT_EQ(endpoints["data"][0]["last_error"], "HTTP 500");

  // While it is disabled, a new task's notification is kept, not sent.
  const std::string second = submit("/hook?n=2");
  WaitDone(second);
  json dead;
  for (int i = 0; i < 100; ++i) {
    dead = json::parse(Call("GET", "/admin/v1/callbacks/failed", "", admin).body);
    if (dead["data"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(dead["data"].size(), 2u) << dead;
  EXPECT_EQ(receiver.Requests().size(), 2u) << "two attempts of the first, none of the second";
  EXPECT_TRUE(dead["data"][1]["last_error"].get<std::string>().starts_with("endpoint_disabled")) << dead;
  auto cli_dead = testing::RunCommand({testing::WanserveBinary(), "admin", "callbacks", "failed", "--data", data_dir_});
  EXPECT_NE(cli_dead.out.find(dead["data"][0]["id"].get<std::string>()), std::string::npos) << cli_dead.out;
  auto cli_endpoints =
      testing::RunCommand({testing::WanserveBinary(), "admin", "callbacks", "endpoints", "--data", data_dir_});
  EXPECT_NE(cli_endpoints.out.find("DISABLED  " + receiver.Url("/hook")), std::string::npos) << cli_endpoints.out;

  // The receiver is mended: the operator enables the endpoint (CLI), resends one dead letter
  // (HTTP API) and then every other one (CLI); each arrives once, under a new webhook-id.
  up = true;
  auto enabled = testing::RunCommand({testing::WanserveBinary(), "admin", "callbacks", "enable-endpoint", "--data",
                                      data_dir_, receiver.Url("/hook")});
  EXPECT_EQ(enabled.exit_code, 0) << enabled.err;
  const std::string dead_first = dead["data"][0]["id"];
  auto one = Call("POST", "/admin/v1/callbacks/" + dead_first + "/resend", "", admin);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_NE(json::parse(one.body)["id"], dead_first);
  EXPECT_EQ(Call("POST", "/admin/v1/callbacks/" + dead_first + "/resend", "", admin).status, 409) << "resent once";
  auto rest = testing::RunCommand(
      {testing::WanserveBinary(), "admin", "callbacks", "resend", "--failed", "--data", data_dir_});
  EXPECT_NE(rest.out.find("queued 1 dead letter"), std::string::npos) << rest.out << rest.err;
  ASSERT_TRUE(receiver.WaitForRequests(4, 15'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NE(got[2].headers.at("webhook-id"), got[0].headers.at("webhook-id"));
  EXPECT_EQ(json::parse(Call("GET", "/admin/v1/callbacks/failed", "", admin).body)["data"], json::array());
  const json log = json::parse(Call("GET", "/admin/v1/tasks/" + second + "/callbacks", "", admin).body);
  ASSERT_EQ(log["data"].size(), 2u) << log;
  EXPECT_EQ(log["data"][0]["state"], "failed");
  EXPECT_EQ(log["data"][0]["resent_as"], log["data"][1]["id"]);
  EXPECT_EQ(log["data"][1]["state"], "delivered");
  EXPECT_EQ(log["data"][1]["attempt_log"][0]["status_code"], 200);
  EXPECT_EQ(json::parse(Call("GET", "/admin/v1/callbacks/endpoints", "", admin).body)["data"][0]["disabled"], false);
}

}  // namespace
}  // namespace wanserve::e2e
