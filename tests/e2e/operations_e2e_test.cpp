// What an operator meets first: the version, listen addresses as people write them, and
// command-line tools whose flags beat the environment and that refuse a mistyped data folder.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <thread>

#include "e2e_fixture.h"
#include "testing/test_pki.h"

namespace wanserve::e2e {
namespace {

const std::vector<std::string> kTestpattern = {"--providers-testpattern-enabled", "true", "--providers-testpattern-steps",
                                               "2", "--providers-testpattern-step-delay-ms", "0"};

std::vector<std::string> With(std::vector<std::string> flags, const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

// 8-4-4-4-12 lower-case hex digits.
bool LooksLikeUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

class OperationsE2E : public ServerTest {
 protected:
  std::string FirstResult() {
    auto r = Authed("POST", "/v1/images/generations", R"({"model":"wan-2.7-image","prompt":"a lamp"})");
    EXPECT_EQ(r.status, 200) << r.body;
    const json done = WaitDone(json::parse(r.body)["id"], 60);
    EXPECT_EQ(done.value("status", ""), "completed") << done.dump();
    return done["results"][0];
  }
};

TEST_F(OperationsE2E, TheVersionIsPrintedAndExportedAsBuildInfo) {
  const auto version = testing::RunCommand({testing::WanserveBinary(), "--version"});
  ASSERT_EQ(version.exit_code, 0) << version.err;
  ASSERT_TRUE(version.out.starts_with("wanserve ")) << version.out;
  const std::string v = testing::LastLine(version.out).substr(9);
  EXPECT_FALSE(v.empty());
  StartServer();
  const std::string metrics = Call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("wanserve_build_info{version=\"" + v + "\",role=\"all\"} 1"), std::string::npos) << metrics;
}

TEST_F(OperationsE2E, ListenAddressesAsOperatorsWriteThem) {
  // A host name: bound to its address, links name it.
  StartServer(With(kTestpattern, {"--listen", "localhost:0"}));
  EXPECT_TRUE(server_->base_url().starts_with("http://127.0.0.1:")) << server_->base_url();
  EXPECT_TRUE(FirstResult().starts_with(server_->base_url() + "/files/"));
  server_->Stop(SIGTERM);

  // Every interface: refused without the public URL links must name, taken with it.
  auto wildcard = testing::RunCommand({testing::WanserveBinary(), "serve", "--data", data_dir_, "--listen", ":0"});
  EXPECT_EQ(wildcard.exit_code, 2);
  EXPECT_NE(wildcard.err.find("set public_url"), std::string::npos) << wildcard.err;
  server_ = std::make_unique<testing::ServerProcess>(
      data_dir_, With(kTestpattern, {"--listen", ":0", "--public-url", "https://wan.example.com"}));
  const std::string port = server_->base_url().substr(server_->base_url().rfind(':'));
  auto health = net::Fetch({"GET", "http://127.0.0.1" + port + "/healthz", {}, "", 10'000});
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  server_ = std::make_unique<testing::ServerProcess>(
      data_dir_, With(kTestpattern, {"--listen", "127.0.0.1:0", "--public-url", "https://wan.example.com"}));
  EXPECT_TRUE(FirstResult().starts_with("https://wan.example.com/files/"));

  // Malformed: refused, naming what is wrong.
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"127.0.0.1", "no port"}, {"127.0.0.1:99999", "0 to 65535"}, {"[::1:80", "not a host and port"}}) {
    auto bad = testing::RunCommand({testing::WanserveBinary(), "serve", "--data", data_dir_, "--listen", text});
    EXPECT_EQ(bad.exit_code, 2) << text;
    EXPECT_NE(bad.err.find(why), std::string::npos) << text << ": " << bad.err;
  }
}

TEST_F(OperationsE2E, AdminFlagsBeatTheEnvironmentAndAMissingFolderIsRefused) {
  const std::string alpha = (dir_.path() / "alpha").string(), beta = (dir_.path() / "beta").string();
  testing::CreateKey(alpha, "alpha-key");
  testing::CreateKey(beta, "beta-key");
  auto listed = testing::RunCommand(
      {"env", "WANSERVE_DATA=" + beta, testing::WanserveBinary(), "admin", "keys", "list", "--data", alpha});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("alpha-key"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find("beta-key"), std::string::npos) << "the environment overrode --data: " << listed.out;
  // Without the flag the environment is used.
  auto from_env = testing::RunCommand({"env", "WANSERVE_DATA=" + beta, testing::WanserveBinary(), "admin", "keys", "list"});
  EXPECT_NE(from_env.out.find("beta-key"), std::string::npos) << from_env.out;

  const std::string typo = (dir_.path() / "alhpa").string();
  auto missing = testing::RunCommand({testing::WanserveBinary(), "admin", "keys", "list", "--data", typo});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(typo)) << "a mistyped folder is not created";
}

TEST_F(OperationsE2E, ClientFlagsBeatTheEnvironment) {
  StartServer();
  auto submitted = testing::RunCommand({"env", "WANSERVE_API_KEY=ws_not_a_key", "WANSERVE_SERVER=http://127.0.0.1:9",
                                        testing::WanserveBinary(), "submit", "--server", server_->base_url(), "--key",
                                        key_, "--model", "wan-2.7-image", "--prompt", "a lamp"});
  EXPECT_EQ(submitted.exit_code, 0) << submitted.err;
  EXPECT_TRUE(testing::LastLine(submitted.out).starts_with("task-unified-")) << submitted.out;
  auto keyless = testing::RunCommand({"env", "-u", "WANSERVE_API_KEY", testing::WanserveBinary(), "status", "--server",
                                      server_->base_url(), "task-unified-1-abcdefgh"});
  EXPECT_EQ(keyless.exit_code, 2);
  EXPECT_NE(keyless.err.find("WANSERVE_API_KEY"), std::string::npos) << keyless.err;
}

TEST_F(OperationsE2E, TheClientSubmitsWaitsDownloadsAndCancelsInEveryDialect) {
  // Tasks of about three seconds, so that one can be canceled and a wait can run out.
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "30",
               "--providers-testpattern-step-delay-ms", "100"});
  const auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), testing::WanserveBinary());
    args.insert(args.end(), {"--server", server_->base_url(), "--key", key_});
    return testing::RunCommand(args);
  };
  const std::vector<std::pair<std::string, std::string>> models = {
      {"unified", "wan-2.7-image"}, {"skills_video", "wan-v2.7"}, {"market", "wan/2-7-image"}, {"dashscope", "wan2.7-image"}};
  for (const auto& [dialect, model] : models) {
    const std::string out = (dir_.path() / dialect).string();
    auto run = cli({"submit", "--dialect", dialect, "--model", model, "--prompt", "a lamp", "--wait", "--out", out});
    ASSERT_EQ(run.exit_code, 0) << dialect << ": " << run.err;
    const std::string id = run.out.substr(0, run.out.find('\n'));
    const std::string file = testing::LastLine(run.out);
    EXPECT_TRUE(file.ends_with(".png") && std::filesystem::file_size(file) > 0) << dialect << ": " << run.out;
    // Progress to a pipe: plain lines, no carriage returns.
    EXPECT_EQ(run.err.find('\r'), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(id + " "), std::string::npos) << run.err;
    // The id alone tells the dialect: status, wait and download find the task.
    auto status = cli({"status", id, "--json"});
    ASSERT_EQ(status.exit_code, 0) << dialect << ": " << status.err;
    EXPECT_TRUE(json::parse(status.out, nullptr, false).is_object()) << status.out;
    auto wait = cli({"wait", id});
    EXPECT_EQ(wait.exit_code, 0) << wait.err;
    EXPECT_NE(wait.out.find("/files/"), std::string::npos) << wait.out;
    const std::string again = (dir_.path() / (dialect + "-again")).string();
    auto download = cli({"download", id, "--out", again});
    EXPECT_EQ(download.exit_code, 0) << download.err;
    EXPECT_TRUE(std::filesystem::exists(testing::LastLine(download.out))) << download.out;
  }
  auto dashscope_status = cli({"status", "--json",
                               testing::LastLine(cli({"submit", "--dialect", "dashscope", "--model", "wan2.7-t2v",
                                                      "--prompt", "a boat", "--set", "parameters.duration=2"}).out)});
  EXPECT_NE(dashscope_status.out.find("\"task_status\""), std::string::npos) << dashscope_status.out;

  // A wait that runs out, a cancel, and the wait that sees the task end canceled.
  const std::string running = testing::LastLine(
      cli({"submit", "--model", "wan2.7-text-to-video", "--prompt", "a long boat ride", "--set", "duration=5"}).out);
  auto short_wait = cli({"wait", running, "--timeout", "0.3"});
  EXPECT_EQ(short_wait.exit_code, 3) << short_wait.err;
  EXPECT_NE(short_wait.err.find("timed out"), std::string::npos) << short_wait.err;
  auto cancel = cli({"cancel", running});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.err;
  auto ended = cli({"wait", running});
  EXPECT_EQ(ended.exit_code, 1);
  EXPECT_NE(ended.err.find("cancel"), std::string::npos) << ended.err;

  // A refusal: one line with the dialect's code, the field and the HTTP status.
  auto refused = cli({"submit", "--model", "wan2.7-text-to-video", "--prompt", "p", "--set", "duration=99"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  EXPECT_TRUE(refused.err.starts_with("error: ")) << refused.err;
  EXPECT_NE(refused.err.find("duration"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("(HTTP 400)"), std::string::npos) << refused.err;
  auto unknown = cli({"status", "not-a-task"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("not a task id"), std::string::npos) << unknown.err;
}

TEST_F(OperationsE2E, OnATerminalProgressIsOneRedrawnLineThatFitsItsWidth) {
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "10",
               "--providers-testpattern-step-delay-ms", "100"});
  // script(1) gives the client a pseudo-terminal, 70 columns wide.
  const std::string command = "stty cols 70; " + testing::WanserveBinary() + " submit --server " +
                              server_->base_url() + " --key " + key_ +
                              " --model wan-2.7-image --prompt 'a lamp' --wait --out " + (dir_.path() / "tty").string();
  auto run = testing::RunCommand({"script", "-qec", command, "/dev/null"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_GE(std::count(run.out.begin(), run.out.end(), '\r'), 3) << "redrawn in place: " << run.out;
  EXPECT_NE(run.out.find("100% completed"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("] "), std::string::npos) << "a bar: " << run.out;
  // Every drawing (between carriage returns, without the erase-to-end code) fits the terminal.
  size_t at = 0;
  while ((at = run.out.find('\r', at)) != std::string::npos) {
    const size_t end = run.out.find_first_of("\r\n", at + 1);
    std::string drawn = run.out.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
    if (const auto erase = drawn.find("\x1b[K"); erase != std::string::npos) drawn.erase(erase);
    EXPECT_LT(drawn.size(), 70u) << "'" << drawn << "'";
    at = at + 1;
  }
}

TEST_F(OperationsE2E, AFieldTheModelDoesNotHaveIsReportedNotSilentlyIgnored) {
  StartServer();
  // The unified dialect's answer says so (resolution is DashScope's word; unified says quality).
  auto r = Authed("POST", "/v1/videos/generations",
                  R"({"model":"wan2.7-text-to-video","prompt":"a boat","duration":2,"resolution":"4k"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json answer = json::parse(r.body);
  ASSERT_EQ(answer["warnings"].size(), 1u) << r.body;
  EXPECT_NE(answer["warnings"][0].get<std::string>().find("resolution: not a field of wan2.7-text-to-video"),
            std::string::npos) << r.body;
  // A request with only known fields has none.
  auto clean = Authed("POST", "/v1/videos/generations", R"({"model":"wan2.7-text-to-video","prompt":"a boat","duration":2})");
  EXPECT_FALSE(json::parse(clean.body).contains("warnings")) << clean.body;
  // The other dialects keep their answers as their providers shape them, and log it.
  auto market = Authed("POST", "/api/v1/jobs/createTask",
                       R"({"model":"wan/2-7-image","input":{"prompt":"a lamp","sizee":"2K"}})");
  ASSERT_EQ(market.status, 200) << market.body;
  const std::string task = json::parse(market.body)["data"]["taskId"];
  EXPECT_NE(server_->log().find("task=" + task + " ignored fields its dialect does not have here: input.sizee"),
            std::string::npos) << server_->log();
}

// The lines of a Prometheus text that start with `name{` and contain every one of `labels`.
std::vector<std::string> MetricLines(const std::string& text, const std::string& name,
                                     const std::vector<std::string>& labels) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find('\n', at), text.size());
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(name + "{")) continue;
    if (std::all_of(labels.begin(), labels.end(), [&](const std::string& l) { return line.find(l) != std::string::npos; })) {
      out.push_back(line);
    }
  }
  return out;
}

TEST_F(OperationsE2E, MetricsBreakFinishedTasksDownByModelProviderOutcomeAndCode) {
  // Four seconds a task: the cancel below must land while the video runs, also on a loaded machine
  // (with one second, a CI run's status poll saw "processing" too late and the video succeeded).
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "100",
               "--providers-testpattern-step-delay-ms", "40"});
  // One that succeeds, one whose input cannot be fetched, one canceled while it runs.
  const std::string ok = FirstResult();
  auto bad = Authed("POST", "/v1/images/generations",
                    R"({"model":"wan-2.7-image","prompt":"p","image_urls":["https://example.invalid/a.png"]})");
  ASSERT_EQ(bad.status, 200) << bad.body;
  EXPECT_EQ(WaitDone(json::parse(bad.body)["id"], 60).value("status", ""), "failed");
  auto long_one = Authed("POST", "/v1/videos/generations", R"({"model":"wan2.7-text-to-video","prompt":"p","duration":5})");
  const std::string id = json::parse(long_one.body)["id"];
  for (int i = 0; i < 200 && json::parse(Authed("GET", "/v1/tasks/" + id).body)["status"] != "processing"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Authed("POST", "/v1/tasks/" + id + "/cancel");
  WaitDone(id, 60);

  std::string metrics;
  for (int i = 0; i < 50; ++i) {
    metrics = Call("GET", "/metrics").body;
    if (!MetricLines(metrics, "wanserve_task_outcomes_total", {"outcome=\"canceled\""}).empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(MetricLines(metrics, "wanserve_task_outcomes_total",
                        {"model=\"wan2.7-image\"", "provider=\"testpattern\"", "outcome=\"succeeded\"", "code=\"none\"} 1"})
                .size(),
            1u) << metrics;
  const auto failed = MetricLines(metrics, "wanserve_task_outcomes_total", {"outcome=\"failed\"", "provider=\"none\""});
  ASSERT_EQ(failed.size(), 1u) << metrics;
  EXPECT_EQ(failed[0].find("code=\"none\""), std::string::npos) << "a failure names its code: " << failed[0];
  EXPECT_EQ(MetricLines(metrics, "wanserve_task_outcomes_total",
                        {"model=\"wan2.7-t2v\"", "provider=\"testpattern\"", "outcome=\"canceled\""}).size(),
            1u) << metrics;
  EXPECT_FALSE(MetricLines(metrics, "wanserve_task_queue_wait_seconds_bucket", {"model=\"wan2.7-image\""}).empty())
      << metrics;
  EXPECT_NE(metrics.find("# TYPE wanserve_provider_fallbacks_total counter"), std::string::npos);
}

// The access log's records, by request id.
std::map<std::string, json> AccessRecords(const std::string& log) {
  std::map<std::string, json> out;
  size_t at = 0;
  while ((at = log.find("{\"event\":\"http\"", at)) != std::string::npos) {
    const size_t end = log.find('\n', at);
    const json record = json::parse(log.substr(at, end - at), nullptr, false);
    if (record.is_object()) out[record["request_id"]] = record;
    at = end;
  }
  return out;
}

TEST_F(OperationsE2E, EveryAnswerCarriesARequestIdThatTheAccessLogRecords) {
  StartServer(With(kTestpattern, {"--log-level", "info"}));
  struct Probe {
    std::string method, path;
    std::vector<std::string> headers;
    long status;
    std::string route;
  };
  const std::string auth = "Authorization: Bearer " + key_;
  const std::vector<Probe> probes = {
      {"GET", "/healthz", {}, 200, "/healthz"},
      {"GET", "/v1/tasks/task-unified-1-abcdefgh", {auth}, 404, "/v1/tasks/{task_id}"},
      {"POST", "/v1/images/generations", {}, 401, "/v1/images/generations"},
      {"GET", "/no/such/endpoint", {}, 404, ""},
      {"HEAD", "/openapi/unified.json", {}, 200, "/openapi/unified.json"},
      {"POST", "/api/v1/jobs/createTask", {auth, "Content-Type: application/json"}, 200, "/api/v1/jobs/createTask"},
  };
  std::vector<std::string> ids;
  for (const auto& p : probes) {
    const auto r = Call(p.method, p.path, p.method == "POST" ? "{}" : "", p.headers);
    EXPECT_EQ(r.status, p.status) << p.method << " " << p.path;
    ASSERT_TRUE(r.headers.count("x-request-id")) << p.method << " " << p.path;
    EXPECT_TRUE(LooksLikeUuid(r.headers.at("x-request-id"))) << r.headers.at("x-request-id");
    ids.push_back(r.headers.at("x-request-id"));
  }
  EXPECT_NE(ids[0], ids[1]) << "each exchange has its own id";
  // A client's own id is kept; one that is not a plain token is replaced.
  EXPECT_EQ(Call("GET", "/healthz", "", {"X-Request-Id: trace-4bf92f35.01"}).headers["x-request-id"], "trace-4bf92f35.01");
  const std::string replaced = Call("GET", "/healthz", "", {"X-Request-Id: two words"}).headers["x-request-id"];
  EXPECT_TRUE(LooksLikeUuid(replaced)) << replaced;

  // One record per exchange, with the route, the status and who called.
  std::map<std::string, json> records;
  for (int i = 0; i < 50 && records.size() < probes.size() + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    records = AccessRecords(server_->log());
  }
  for (size_t i = 0; i < probes.size(); ++i) {
    ASSERT_TRUE(records.count(ids[i])) << probes[i].path << " has no access record";
    const json& r = records[ids[i]];
    EXPECT_EQ(r["method"], probes[i].method);
    EXPECT_EQ(r["path"], probes[i].path.substr(0, probes[i].path.find('?')));
    EXPECT_EQ(r["status"], probes[i].status);
    EXPECT_EQ(r.value("route", ""), probes[i].route);
    EXPECT_EQ(r["remote"], "127.0.0.1");
    EXPECT_GE(r["ms"].get<double>(), 0.0);
  }
  EXPECT_TRUE(records[ids[1]].value("key", "").starts_with("key_")) << records[ids[1]];
  EXPECT_FALSE(records[ids[0]].contains("key"));
  EXPECT_TRUE(records.count("trace-4bf92f35.01"));
}

TEST_F(OperationsE2E, DashScopeBodiesNameTheExchangesRequestId) {
  StartServer();
  const std::string auth = "Authorization: Bearer " + key_;
  const std::string create = "/api/v1/services/aigc/image-generation/generation";
  const std::string good = R"({"model":"wan2.7-image","input":{"messages":[{"role":"user","content":[{"text":"a fox"}]}]}})";
  struct Probe {
    std::string method, path, body;
    std::vector<std::string> headers;
    long status;
  };
  const std::vector<Probe> probes = {
      {"POST", create, good, {auth, "X-DashScope-Async: enable", "Content-Type: application/json"}, 200},
      {"POST", create, R"({"model":"wan2.7-image","input":{}})", {auth, "X-DashScope-Async: enable"}, 400},
      {"POST", create, good, {"X-DashScope-Async: enable"}, 401},
      {"POST", create, good, {auth}, 403},
      {"GET", "/api/v1/tasks/0f0e0d0c-0000-4000-8000-000000000000", "", {auth}, 200},
      {"GET", "/api/v1/uploads?action=getPolicy&model=wan2.7-image", "", {auth}, 200},
  };
  for (const auto& p : probes) {
    const auto r = Call(p.method, p.path, p.body, p.headers);
    EXPECT_EQ(r.status, p.status) << p.method << " " << p.path << ": " << r.body;
    const json body = json::parse(r.body);
    ASSERT_TRUE(body.contains("request_id")) << r.body;
    EXPECT_EQ(body["request_id"], r.headers.at("x-request-id")) << p.method << " " << p.path << ": " << r.body;
  }
  // A caller's own id comes back in the body, so its support ticket names our log line.
  const auto traced = Call("POST", create, "{}", {auth, "X-DashScope-Async: enable", "X-Request-Id: ticket-8841"});
  EXPECT_EQ(traced.status, 400);
  EXPECT_EQ(json::parse(traced.body)["request_id"], "ticket-8841") << traced.body;
}

// curl over HTTPS trusting `ca`: the status (0 when no TLS session came up) and the body.
std::pair<int, std::string> CurlTls(const std::string& ca, const std::string& url, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {"curl", "-sS", "--cacert", ca, "-w", "\n%{http_code}", url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto r = testing::RunCommand(argv);
  const auto cut = r.out.rfind('\n');
  if (r.exit_code != 0 || cut == std::string::npos) return {0, r.err};
  return {std::stoi(r.out.substr(cut + 1)), r.out.substr(0, cut)};
}

TEST_F(OperationsE2E, TheServerSpeaksHttpsWithItsCertificateAndServesARenewedOneWithoutARestart) {
  const auto first_dir = dir_.path() / "pki1";
  const auto second_dir = dir_.path() / "pki2";
  std::filesystem::create_directories(first_dir);
  std::filesystem::create_directories(second_dir);
  const auto first = testing::MakeTestPki(first_dir.string());
  const auto second = testing::MakeTestPki(second_dir.string());
  // The server's own copies, which a renewal overwrites.
  const std::string cert = (dir_.path() / "server.crt").string(), key = (dir_.path() / "server.key").string();
  std::filesystem::copy_file(first.cert_file, cert);
  std::filesystem::copy_file(first.key_file, key);

  // A key that is not the certificate's is a start-up error that names it.
  auto mismatched = testing::RunCommand({testing::WanserveBinary(), "serve", "--data", data_dir_, "--listen",
                                         "127.0.0.1:0", "--tls-cert", cert, "--tls-key", second.key_file});
  EXPECT_EQ(mismatched.exit_code, 1);
  EXPECT_NE((mismatched.out + mismatched.err).find("tls.key " + second.key_file + ": key values mismatch"), std::string::npos)
      << mismatched.out << mismatched.err;

  auto half = testing::RunCommand(
      {testing::WanserveBinary(), "serve", "--data", data_dir_, "--listen", "127.0.0.1:0", "--tls-cert", cert});
  EXPECT_EQ(half.exit_code, 1);
  EXPECT_NE((half.out + half.err).find("TLS needs both tls.cert and tls.key"), std::string::npos) << half.err;

  StartServer(With(kTestpattern, {"--tls-cert", cert, "--tls-key", key, "--log-level", "info"}));
  const std::string base = server_->base_url();
  ASSERT_TRUE(base.starts_with("https://127.0.0.1:")) << base;
  EXPECT_EQ(CurlTls(first.ca_file, base + "/healthz").first, 200);

  // A task over HTTPS: its output link is an https:// one of this server, and serves the file.
  const auto submitted = CurlTls(first.ca_file, base + "/v1/images/generations",
                                 {"-H", "Authorization: Bearer " + key_, "-H", "Content-Type: application/json", "-d",
                                  R"({"model":"wan-2.7-image","prompt":"a lamp"})"});
  ASSERT_EQ(submitted.first, 200) << submitted.second;
  const std::string id = json::parse(submitted.second)["id"];
  json task;
  for (int i = 0; i < 200; ++i) {
    task = json::parse(CurlTls(first.ca_file, base + "/v1/tasks/" + id, {"-H", "Authorization: Bearer " + key_}).second);
    if (task["status"] == "completed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(task["status"], "completed") << task.dump();
  const std::string link = task["results"][0];
  EXPECT_TRUE(link.starts_with(base + "/")) << link;
  const auto image = CurlTls(first.ca_file, link);
  EXPECT_EQ(image.first, 200);
  EXPECT_EQ(image.second.substr(0, 4), "\x89PNG");

  // Plain HTTP to the TLS listener gets no answer, and is counted.
  const std::string plain = "http://" + base.substr(std::string("https://").size()) + "/healthz";
  EXPECT_NE(testing::RunCommand({"curl", "-sS", "--max-time", "5", plain}).exit_code, 0);
  const auto metrics = CurlTls(first.ca_file, base + "/metrics").second;
  EXPECT_NE(metrics.find("wanserve_http_tls_handshake_failures_total 1"), std::string::npos) << metrics;

  // A renewal overwrites the files: new connections get the new certificate within the recheck
  // interval (10 s), and clients that trust only the old CA are refused from then on.
  std::filesystem::copy_file(second.key_file, key, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(second.cert_file, cert, std::filesystem::copy_options::overwrite_existing);
  int renewed = 0;
  for (int i = 0; i < 60 && renewed != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    renewed = CurlTls(second.ca_file, base + "/healthz").first;
  }
  EXPECT_EQ(renewed, 200) << "the renewed certificate is served";
  EXPECT_EQ(CurlTls(first.ca_file, base + "/healthz").first, 0) << "the old one is not";
  EXPECT_NE(server_->log().find("TLS certificate reloaded"), std::string::npos) << server_->log();
}

}  // namespace
}  // namespace wanserve::e2e
