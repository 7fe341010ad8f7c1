#include "e2e_fixture.h"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/crypto.h"
#include "testing/postgres_cluster.h"

namespace wanserve::e2e {

void ServerTest::TearDown() {
  if (HasFailure() && server_) std::cerr << "server log:\n" << server_->log() << "\n";
  if (!store_url_.empty()) unsetenv("WANSERVE_STORE_URL");
}

void ServerTest::UsePostgres() {
  std::string why;
  testing::PostgresCluster* cluster = testing::PostgresCluster::Shared(&why);
  if (!cluster) GTEST_SKIP() << why;
  store_url_ = cluster->FreshSchemaUrl();
  setenv("WANSERVE_STORE_URL", store_url_.c_str(), 1);
}

void ServerTest::StartServer(std::vector<std::string> extra) {
  if (key_.empty()) key_ = testing::CreateKey(data_dir_);
  last_extra_ = extra;
  server_ = std::make_unique<testing::ServerProcess>(data_dir_, extra);
}

void ServerTest::RestartServer(int signal, std::vector<std::string> extra) {
  server_->Stop(signal);
  server_ = std::make_unique<testing::ServerProcess>(data_dir_, extra);
}

net::HttpResult ServerTest::Call(const std::string& method, const std::string& path, const std::string& body,
                                 const std::vector<std::string>& headers) {
  // A body goes as JSON unless the test names its type, as the providers' clients send it
  // (libcurl would otherwise label it a form, which JSON routes refuse).
  std::vector<std::string> sent = headers;
  const bool typed = std::any_of(headers.begin(), headers.end(), [](const std::string& h) {
    return h.size() >= 13 && strncasecmp(h.c_str(), "Content-Type:", 13) == 0;
  });
  if (!body.empty() && !typed) sent.push_back("Content-Type: application/json");
  auto r = net::Fetch({method, server_->base_url() + path, sent, body, 60'000});
  EXPECT_TRUE(r.ok()) << method << " " << path << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : net::HttpResult{};
}

net::HttpResult ServerTest::Authed(const std::string& method, const std::string& path, const std::string& body,
                                   const std::string& key) {
  return Call(method, path, body,
              {"Authorization: Bearer " + (key.empty() ? key_ : key), "Content-Type: application/json"});
}

json ServerTest::WaitDone(const std::string& id, int timeout_s, const std::string& key) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    json j;
    bool done = false;
    if (id.rfind("gen_", 0) == 0) {
      j = json::parse(Authed("GET", "/api/v1/generation/" + id, "", key).body);
      const std::string s = j.value("status", "");
      done = s == "COMPLETED" || s == "FAILED" || s == "CANCELED";
    } else if (id.rfind("task-unified-", 0) == 0) {
      j = json::parse(Authed("GET", "/v1/tasks/" + id, "", key).body);
      const std::string s = j.value("status", "");
      done = s == "completed" || s == "failed";
    } else if (id.rfind("task_wan_", 0) != 0) {
      j = json::parse(Authed("GET", "/api/v1/tasks/" + id, "", key).body);  // DashScope: a UUID
      const std::string s = j["output"].value("task_status", "");
      done = s == "SUCCEEDED" || s == "FAILED" || s == "CANCELED" || s == "UNKNOWN";
    } else {
      j = json::parse(Authed("GET", "/api/v1/jobs/recordInfo?taskId=" + id, "", key).body);
      const std::string s = j["data"].value("state", "");
      done = s == "success" || s == "fail";
    }
    if (done) return j;
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "task " << id << " not done: " << j.dump();
      return j;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string ServerTest::Download(const std::string& url) {
  auto r = net::Fetch({"GET", url, {}, "", 60'000});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << url;
  const auto q = url.find('?');
  const auto name = url.substr(url.rfind('/', q) + 1, q - url.rfind('/', q) - 1);
  const auto path = (dir_.path() / name).string();
  std::ofstream(path, std::ios::binary) << r->body;
  return path;
}

std::string ServerTest::UploadClip(double seconds, const std::string& key, bool audio) {
  const std::string clip =
      (dir_.path() / ("clip" + std::to_string(seconds) + (audio ? "-audio" : "") + ".mp4")).string();
  std::vector<std::string> args = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                   "testsrc=size=320x240:rate=16"};
  if (audio) args.insert(args.end(), {"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:a", "aac"});
  args.insert(args.end(), {"-t", std::to_string(seconds), "-pix_fmt", "yuv420p", clip});
  auto made = testing::RunCommand(args);
  EXPECT_EQ(made.exit_code, 0) << made.err;
  return UploadFile(clip, key);
}

std::string ServerTest::UploadPicture(int width, int height, const std::string& key) {
  const std::string picture = (dir_.path() / fmt::format("picture{}x{}.png", width, height)).string();
  auto made = testing::RunCommand({"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                   fmt::format("testsrc2=size={}x{}", width, height), "-frames:v", "1", picture});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  return UploadFile(picture, key);
}

std::string ServerTest::UploadFile(const std::string& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = Call("POST", "/v1/files", bytes, {"Authorization: Bearer " + (key.empty() ? key_ : key)});
  EXPECT_EQ(r.status, 200) << r.body;
  return json::parse(r.body).value("url", "");
}

std::string ServerTest::FundedKey(int64_t permanent, int64_t subscription, const std::string& expires,
                                  std::vector<std::string> account_flags, std::vector<std::string> key_flags) {
  std::vector<std::string> args = {testing::WanserveBinary(), "admin", "accounts", "create", "--data", data_dir_,
                                   "--name", "acme" + std::to_string(++accounts_), "--permanent-credits",
                                   std::to_string(permanent)};
  if (subscription > 0) {
    args.insert(args.end(), {"--subscription-credits", std::to_string(subscription), "--subscription-expires", expires});
  }
  args.insert(args.end(), account_flags.begin(), account_flags.end());
  auto created = testing::RunCommand(args);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  account_ = testing::LastLine(created.out);
  std::vector<std::string> kargs = {testing::WanserveBinary(), "admin", "keys", "create", "--data", data_dir_,
                                    "--account", account_};
  kargs.insert(kargs.end(), key_flags.begin(), key_flags.end());
  auto key = testing::RunCommand(kargs);
  EXPECT_EQ(key.exit_code, 0) << key.err;
  return testing::LastLine(key.out);
}

void ServerTest::ExpectLedgerClean() {
  auto check = testing::RunCommand({testing::WanserveBinary(), "admin", "ledger", "check", "--data", data_dir_});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

json ServerTest::Credits(const std::string& key) {
  return json::parse(Authed("GET", "/api/v1/credits", "", key).body);
}

}  // namespace wanserve::e2e
