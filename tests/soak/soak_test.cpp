// The soak: one wanserve on its default SQLite data folder, kill -9'd and restarted over and
// over while clients of every dialect submit (images, a video, edits of an uploaded picture)
// from accounts with tight credits and concurrency limits, cancel some tasks and replay some
// submits, and a callback receiver fails at random and goes down for whole rounds. Then the
// invariants a user and an operator count on:
//   none lost and none stuck: every accepted task ends, as its own dialect reports it;
//   one settlement per task and balances exact by arithmetic: each account holds its credits
//     less what its succeeded tasks cost, and `admin ledger check` finds nothing;
//   every blob referenced exists: each output link of a succeeded task downloads, and the files
//     under blobs/ are exactly the outputs the tasks record once the sweeps ran;
//   no leftovers: no half-written file or input folder survives the start-up sweep;
//   every callback delivered or dead-lettered, and every dead letter resendable: after the
//     receiver recovers, resending the dead letters leaves every task with a delivered callback.
//
// CI runs a short round; bench/soak.sh runs long ones (WANSERVE_SOAK_KILLS, _CLIENTS).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "net/http_client.h"
#include "testing/loopback_http_server.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace wanserve::soak {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

void SleepMs(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// A port nothing listens on now; the server takes it on every restart so that links and
// clients keep working across restarts.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// How a task ended as its dialect reports it: "" while it runs.
enum class Ending { kRunning, kSucceeded, kFailed };

// One kind of request of the mixed load, in its dialect's own terms.
struct Kind {
  std::string name;
  std::string path;
  std::vector<std::string> headers;
  std::function<json(const std::string& prompt, const std::string& callback, const std::string& picture)> body;
  std::function<std::string(const json& created)> id;
  std::function<std::string(const std::string& id)> query;
  std::function<Ending(const json& view)> ending;
  bool cancelable = false;  // canceled through /v1/tasks/{id}/cancel
};

Ending Of(const std::string& state, std::set<std::string> succeeded, std::set<std::string> failed) {
  return succeeded.count(state) ? Ending::kSucceeded : failed.count(state) ? Ending::kFailed : Ending::kRunning;
}

std::vector<Kind> Kinds() {
  auto unified_ending = [](const json& v) { return Of(v.value("status", ""), {"completed"}, {"failed"}); };
  auto unified_id = [](const json& c) { return c.value("id", ""); };
  auto unified_query = [](const std::string& id) { return "/v1/tasks/" + id; };
  auto kie_ending = [](const json& v) {
    return Of(v.value("data", json::object()).value("state", ""), {"success"}, {"fail"});
  };
  auto kie_id = [](const json& c) {
    return c.value("code", 0) == 200 ? c["data"].value("taskId", "") : std::string();
  };
  auto kie_query = [](const std::string& id) { return "/api/v1/jobs/recordInfo?taskId=" + id; };
  return {
      {"unified image", "/v1/images/generations", {},
       [](const std::string& p, const std::string& cb, const std::string&) {
         return json{{"model", "wan-2.7-image"}, {"prompt", p}, {"size", {{"width", 256}, {"height", 256}}},
                     {"callback_url", cb}};
       },
       unified_id, unified_query, unified_ending, true},
      {"unified edit", "/v1/images/generations", {},
       [](const std::string& p, const std::string& cb, const std::string& picture) {
         return json{{"model", "wan-2.7-image"}, {"prompt", p}, {"image_urls", {picture}},
                     {"size", {{"width", 320}, {"height", 256}}}, {"callback_url", cb}};
       },
       unified_id, unified_query, unified_ending, true},
      {"kie image", "/api/v1/jobs/createTask", {},
       [](const std::string& p, const std::string& cb, const std::string&) {
         return json{{"model", "wan/2-7-image"}, {"callBackUrl", cb}, {"input", {{"prompt", p}, {"resolution", "1K"}}}};
       },
       kie_id, kie_query, kie_ending},
      {"kie video", "/api/v1/jobs/createTask", {},
       [](const std::string& p, const std::string& cb, const std::string&) {
         return json{{"model", "wan/2-7-text-to-video"}, {"callBackUrl", cb},
                     {"input", {{"prompt", p}, {"resolution", "720p"}, {"duration", 2}}}};
       },
       kie_id, kie_query, kie_ending},
      {"skills image", "/api/v1/generation/wan/wan-v2.7", {},  // its callback is the account's webhook
       [](const std::string& p, const std::string&, const std::string&) {
         return json{{"prompt", p}, {"aspect_ratio", "1:1"}};
       },
       [](const json& c) { return c.value("id", ""); },
       [](const std::string& id) { return "/api/v1/generation/" + id; },
       [](const json& v) { return Of(v.value("status", ""), {"COMPLETED"}, {"FAILED", "CANCELED"}); }},
      {"dashscope edit", "/api/v1/services/aigc/image-generation/generation", {"X-DashScope-Async: enable"},
       [](const std::string& p, const std::string&, const std::string& picture) {
         return json{{"model", "wan2.7-image"},
                     {"input", {{"messages", {{{"role", "user"}, {"content", {{{"image", picture}}, {{"text", p}}}}}}}}},
                     {"parameters", {{"size", "512*512"}}}};
       },
       [](const json& c) { return c.value("output", json::object()).value("task_id", ""); },
       [](const std::string& id) { return "/api/v1/tasks/" + id; },
       [](const json& v) {
         return Of(v.value("output", json::object()).value("task_status", ""), {"SUCCEEDED"},
                   {"FAILED", "CANCELED", "UNKNOWN"});
       }},
  };
}

// Each dialect's refusal for credits (402) or for the concurrency limit (429); 0 for another answer.
int RefusalStatus(const net::HttpResult& r) {
  if (r.status == 402 || r.status == 429) return r.status;
  const json body = json::parse(r.body, nullptr, false);
  if (!body.is_object()) return 0;
  const json code = body.value("code", json());
  if (r.status == 400 && code == "Arrearage") return 402;  // DashScope
  if (r.status == 200 && code.is_number() && (code == 402 || code == 429)) return code.get<int>();  // kie's envelope
  return 0;
}

// Every link to one of our files in a body: blob key -> the link. A link ends where the JSON
// string holding it does (a quote, or the backslash of an escaped quote in kie's resultJson).
std::map<std::string, std::string> OwnFileLinks(const std::string& body, const std::string& base) {
  std::map<std::string, std::string> links;
  const std::string prefix = base + "/files/";
  for (size_t at = body.find(prefix); at != std::string::npos; at = body.find(prefix, at + 1)) {
    const size_t end = body.find_first_of("\"\\ \n", at);
    const std::string link = body.substr(at, end - at);
    std::string key = link.substr(prefix.size(), link.find('?') - prefix.size());
    for (size_t slash; (slash = key.find("%2F")) != std::string::npos;) key.replace(slash, 3, "/");
    links[key] = link;
  }
  return links;
}

// The task id in a create answer; empty unless the dialect said it made one.
std::string CreatedId(const Kind& kind, const net::HttpResult& r) {
  if (r.status != 200) return "";
  const json body = json::parse(r.body, nullptr, false);
  return body.is_object() ? kind.id(body) : "";
}

// Files under a folder, as paths relative to it; `skip` names a top-level folder left out.
std::set<std::string> FilesUnder(const fs::path& root, const std::string& skip = "") {
  std::set<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), root).generic_string();
    if (!skip.empty() && (rel == skip || rel.starts_with(skip + "/"))) continue;
    if (it->is_regular_file()) files.insert(rel);
  }
  return files;
}

struct Submitted {
  const Kind* kind = nullptr;
  std::string id;  // empty: refused for credits or limits
  size_t account = 0;
  bool cancel_sent = false;
  int refused_status = 0;  // the dialect's 402 or 429
};

class SoakTest : public ::testing::Test {
 protected:
  testing::CommandResult Admin(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::WanserveBinary(), "admin"});
    args.insert(args.end(), {"--data", data_dir_});
    return testing::RunCommand(args);
  }

  void StartServer(const std::vector<std::string>& more = {}) {
    std::vector<std::string> flags = flags_;
    flags.insert(flags.end(), more.begin(), more.end());
    for (int attempt = 0;; ++attempt) {
      try {
        server_ = std::make_unique<testing::ServerProcess>(data_dir_, flags);
        return;
      } catch (const std::exception&) {
        if (attempt == 20) throw;  // the port may linger a moment after a kill
        SleepMs(250);
      }
    }
  }

  // A request retried until the server gives a definite answer (it may be down or restarting):
  // not a dropped connection, not a 5xx. Status 0 past the deadline.
  net::HttpResult Send(const std::string& method, const std::string& path, const std::string& body,
                       std::vector<std::string> headers, std::mt19937& rng) {
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (Clock::now() < deadline) {
      auto r = net::Fetch({method, base_ + path, headers, body, 15'000});
      if (r.ok() && r->status < 500) return *r;
      SleepMs(100 + static_cast<int64_t>(rng() % 200));
    }
    return {};
  }

  int64_t Credits(const std::string& key, std::mt19937& rng) {
    auto r = Send("GET", "/api/v1/credits", "", {"Authorization: Bearer " + key}, rng);
    return r.status == 200 ? json::parse(r.body).value("total", int64_t{-1}) : int64_t{-1};
  }

  // Waits for the task to end; returns its last view.
  json WaitEnded(const Kind& kind, const std::string& id, const std::string& key, std::mt19937& rng, int seconds) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    json view;
    do {
      auto r = Send("GET", kind.query(id), "", {"Authorization: Bearer " + key}, rng);
      view = json::parse(r.body, nullptr, false);
      if (view.is_object() && kind.ending(view) != Ending::kRunning) break;
      SleepMs(200);
    } while (Clock::now() < deadline);
    return view;
  }

  testing::TempDir dir_;
  std::string data_dir_ = (dir_.path() / "data").string();
  std::vector<std::string> flags_;
  std::string base_;
  std::unique_ptr<testing::ServerProcess> server_;
};

TEST_F(SoakTest, KillNineUnderMixedLoadLosesNothingAndLeavesNothingBehind) {
  const int kills = EnvInt("WANSERVE_SOAK_KILLS", 6);
  const int clients = EnvInt("WANSERVE_SOAK_CLIENTS", 4);
  const testing::TestPki pki = testing::MakeTestPki(dir_.str());

  // The receiver fails a third of the deliveries at random, and every one while it is down.
  std::atomic<bool> receiver_down{false}, receiver_flaky{true};
  std::mutex answered_mu;
  std::set<std::string> answered_ok;  // webhook-ids the receiver took
  testing::LoopbackHttpServer receiver(
      [&](const testing::ReceivedRequest& r, int index) {
        const bool fail = receiver_down || (receiver_flaky && (index * 2654435761u) % 3 == 0);
        if (fail) return testing::ScriptedResponse(503);
        std::lock_guard lock(answered_mu);
        answered_ok.insert(r.headers.count("webhook-id") ? r.headers.at("webhook-id") : "");
        return testing::ScriptedResponse(200);
      },
      &pki);

  base_ = "http://127.0.0.1:" + std::to_string(FreePort());
  flags_ = {"--listen", base_.substr(7), "--providers-testpattern-enabled", "true",
            "--providers-testpattern-steps", "6", "--providers-testpattern-step-delay-ms", "60",
            "--allow-network", "127.0.0.1/32", "--outbound-ca-file", pki.ca_file, "--workers-count", "2",
            "--workers-lease-ms", "2000", "--workers-renew-every-ms", "500", "--workers-recovery-every-ms", "400",
            // A kill ends every attempt that runs: a video may see several before it finishes.
            "--workers-max-attempts", "50"};
  StartServer();

  const auto token = Admin({"tokens", "create", "--name", "soak"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  const std::vector<std::string> admin = {"Authorization: Bearer " + testing::LastLine(token.out)};
  auto account = [&](const std::string& name, int64_t credits, int max_concurrent) {
    auto a = Admin({"accounts", "create", "--name", name, "--permanent-credits", std::to_string(credits),
                    "--max-concurrent", std::to_string(max_concurrent), "--webhook-url", receiver.Url("/account"),
                    "--allow-network", "127.0.0.1/32"});
    EXPECT_EQ(a.exit_code, 0) << a.err;
    const std::string id = testing::LastLine(a.out);
    auto k = Admin({"keys", "create", "--account", id});
    EXPECT_EQ(k.exit_code, 0) << k.err;
    return testing::LastLine(k.out);
  };

  // The picture the edits start from, uploaded once; its link outlives every restart.
  std::mt19937 rng(11);
  const std::string picture_file = (dir_.path() / "picture.png").string();
  const auto made = testing::RunCommand({"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                         "testsrc2=size=320x240", "-frames:v", "1", picture_file});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::ifstream in(picture_file, std::ios::binary);
  const std::string picture_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  // What each kind costs, measured before the chaos.
  const std::vector<Kind> kinds = Kinds();
  const std::string calibration_key = account("calibration", 10'000'000, 0);
  auto upload = Send("POST", "/v1/files", picture_bytes, {"Authorization: Bearer " + calibration_key}, rng);
  ASSERT_EQ(upload.status, 200) << upload.body;
  const std::string picture = json::parse(upload.body)["url"];
  std::map<const Kind*, int64_t> price;
  std::map<std::string, std::string> output_links;  // every output a task records: key -> link
  for (const Kind& kind : kinds) {
    const int64_t before = Credits(calibration_key, rng);
    std::vector<std::string> headers = kind.headers;
    headers.push_back("Authorization: Bearer " + calibration_key);
    auto r = Send("POST", kind.path, kind.body("calibration", receiver.Url("/calibration"), picture).dump(), headers, rng);
    const std::string id = CreatedId(kind, r);
    ASSERT_FALSE(id.empty()) << kind.name << ": " << r.body;
    const json view = WaitEnded(kind, id, calibration_key, rng, 60);
    ASSERT_EQ(kind.ending(view), Ending::kSucceeded) << kind.name << ": " << view.dump();
    for (const auto& [key, link] : OwnFileLinks(view.dump(), base_)) {
      if (key.find('/') != std::string::npos) output_links[key] = link;
    }
    price[&kind] = before - Credits(calibration_key, rng);
    ASSERT_GT(price[&kind], 0) << kind.name;
  }

  // Accounts that can pay for about a third of what their clients ask (a submit every ~0.6 s
  // while the kills go on, a kill every ~2.5 s), four tasks at a time: both limits refuse some.
  constexpr size_t kAccounts = 3;
  const int per_client = 4 * kills;
  const int64_t mean_price = [&] {
    int64_t sum = 0;
    for (const auto& [kind, p] : price) sum += p;
    return sum / static_cast<int64_t>(price.size());
  }();
  const int64_t initial = mean_price * per_client * clients / static_cast<int64_t>(kAccounts) / 3;
  std::vector<std::string> keys;
  for (size_t a = 0; a < kAccounts; ++a) keys.push_back(account("soak" + std::to_string(a), initial, 4));

  // The load: each client submits until the kills are done.
  std::atomic<int> kills_done{0};
  std::mutex outcomes_mu;
  std::vector<Submitted> outcomes;
  std::vector<std::string> failures;
  std::vector<std::thread> client_threads;
  for (int c = 0; c < clients; ++c) {
    client_threads.emplace_back([&, c] {
      std::mt19937 crng(100 + static_cast<unsigned>(c));
      for (int i = 0; kills_done.load() < kills; ++i) {
        SleepMs(300 + static_cast<int64_t>(crng() % 600));
        Submitted s;
        s.kind = &kinds[crng() % kinds.size()];
        s.account = static_cast<size_t>(crng() % kAccounts);
        const std::string& key = keys[s.account];
        std::vector<std::string> headers = s.kind->headers;
        headers.push_back("Authorization: Bearer " + key);
        headers.push_back("Idempotency-Key: soak-" + std::to_string(c) + "-" + std::to_string(i));
        const std::string body =
            s.kind->body("soak " + std::to_string(c) + "/" + std::to_string(i), receiver.Url("/task"), picture).dump();
        auto r = Send("POST", s.kind->path, body, headers, crng);
        s.id = CreatedId(*s.kind, r);
        s.refused_status = RefusalStatus(r);
        if (s.id.empty() && s.refused_status == 0) {
          std::lock_guard lock(outcomes_mu);
          failures.push_back(s.kind->name + ": submit answered " + std::to_string(r.status) + " " + r.body);
          continue;
        }
        if (!s.id.empty() && crng() % 8 == 0) {  // a client that lost the answer sends it again
          auto again = Send("POST", s.kind->path, body, headers, crng);
          if (CreatedId(*s.kind, again) != s.id) {
            std::lock_guard lock(outcomes_mu);
            failures.push_back(s.kind->name + ": the replay of " + s.id + " answered " + again.body);
          }
        }
        if (!s.id.empty() && s.kind->cancelable && crng() % 6 == 0) {
          SleepMs(static_cast<int64_t>(crng() % 400));
          auto canceled = Send("POST", "/v1/tasks/" + s.id + "/cancel", "", {"Authorization: Bearer " + key}, crng);
          s.cancel_sent = canceled.status == 200;
        }
        {
          std::lock_guard lock(outcomes_mu);
          outcomes.push_back(s);
        }
        if (s.id.empty()) SleepMs(1000 + static_cast<int64_t>(crng() % 1000));  // refused: clients back off
      }
    });
  }

  // The faults: kill -9 every 1.5 to 3.5 s; the receiver down for the round after every third.
  std::thread chaos([&] {
    std::mt19937 crng(99);
    for (int k = 0; k < kills; ++k) {
      SleepMs(1500 + static_cast<int64_t>(crng() % 2000));
      receiver_down = k % 3 == 2;
      server_->Stop(SIGKILL);
      SleepMs(static_cast<int64_t>(crng() % 500));
      StartServer();
      ++kills_done;
    }
    receiver_down = false;
  });
  for (auto& t : client_threads) t.join();
  chaos.join();
  for (const auto& f : failures) ADD_FAILURE() << f;

  // None lost, none stuck: every accepted task ends, and each output link downloads.
  std::map<size_t, int64_t> spent;
  std::map<std::string, int> endings;
  std::set<std::string> accepted_ids;
  for (const Submitted& s : outcomes) {
    if (s.id.empty()) {
      ++endings[s.refused_status == 402 ? "refused for credits" : "refused for the concurrency limit"];
      continue;
    }
    ASSERT_TRUE(accepted_ids.insert(s.id).second) << s.id << " was accepted twice";
    const json view = WaitEnded(*s.kind, s.id, keys[s.account], rng, 120);
    const Ending ending = view.is_object() ? s.kind->ending(view) : Ending::kRunning;
    EXPECT_NE(ending, Ending::kRunning) << s.kind->name << " " << s.id << " never ended: " << view.dump();
    ++endings[ending == Ending::kSucceeded ? "succeeded" : s.cancel_sent ? "canceled" : "failed"];
    if (ending == Ending::kFailed && !s.cancel_sent) ADD_FAILURE() << s.id << " failed: " << view.dump();
    if (ending != Ending::kSucceeded) continue;
    spent[s.account] += price.at(s.kind);
    int outputs = 0;
    for (const auto& [key, link] : OwnFileLinks(view.dump(), base_)) {
      if (key.find('/') == std::string::npos) continue;  // the uploaded picture, an input
      ++outputs;
      output_links[key] = link;
      auto got = net::Fetch({"GET", link, {}, "", 15'000});
      EXPECT_TRUE(got.ok() && got->status == 200 && !got->body.empty()) << s.id << ": output missing: " << link;
    }
    EXPECT_GT(outputs, 0) << s.id << " succeeded without outputs: " << view.dump();
  }
  std::printf("soak: %d kill -9s, %zu submits:", kills, outcomes.size());
  for (const auto& [what, n] : endings) std::printf(" %d %s;", n, what.c_str());
  std::printf("\n");
  EXPECT_GT(accepted_ids.size(), outcomes.size() / 3) << "the limits refused too much to prove much";
  EXPECT_GT(endings["succeeded"], 0);

  // Charged exactly what succeeded cost; the ledger explains every balance, one settlement each.
  for (size_t a = 0; a < kAccounts; ++a) {
    EXPECT_EQ(Credits(keys[a], rng), initial - spent[a]) << "account " << a;
  }
  const auto ledger = Admin({"ledger", "check"});
  EXPECT_EQ(ledger.exit_code, 0) << ledger.out << ledger.err;

  // Every task's callback is delivered or given up as a dead letter ...
  auto deliveries = [&](const std::string& id) {
    auto r = Send("GET", "/admin/v1/tasks/" + id + "/callbacks", "", admin, rng);
    const json j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("data", json::array()) : json::array();
  };
  auto settled = [&](bool delivered_only) {
    std::vector<std::string> open;
    for (const std::string& id : accepted_ids) {
      const json list = deliveries(id);
      bool ok = !list.empty();
      bool delivered = false;
      for (const json& d : list) {
        const std::string state = d.value("state", "");
        ok = ok && (state == "delivered" || state == "failed");
        if (state == "delivered") {
          std::lock_guard lock(answered_mu);
          delivered = delivered || answered_ok.count(d.value("id", ""));
        }
      }
      if (!ok || (delivered_only && !delivered)) open.push_back(id + " " + list.dump());
    }
    return open;
  };
  std::vector<std::string> open;
  for (auto until = Clock::now() + std::chrono::seconds(90); Clock::now() < until; SleepMs(1000)) {
    if ((open = settled(false)).empty()) break;
  }
  for (const auto& o : open) ADD_FAILURE() << "callback neither delivered nor given up: " << o;
  // ... and every dead letter can be resent once the receiver works again.
  receiver_flaky = false;
  const auto dead = json::parse(Send("GET", "/admin/v1/callbacks/failed", "", admin, rng).body);
  int resent = 0;
  for (bool more = true; more;) {
    const auto r = json::parse(Send("POST", "/admin/v1/callbacks/resend-failed", "{}", admin, rng).body);
    resent += r.value("resent", 0);
    more = r.value("more", false);
  }
  for (auto until = Clock::now() + std::chrono::seconds(60); Clock::now() < until; SleepMs(1000)) {
    if ((open = settled(true)).empty()) break;
  }
  for (const auto& o : open) ADD_FAILURE() << "no delivered callback after the resend: " << o;
  std::printf("soak: %zu dead letters listed, %d resent, every task's callback delivered\n",
              dead.value("data", json::array()).size(), resent);

  // No leftovers: what kills left half-written is swept at start once old enough (here aged by
  // hand), and the outputs on disk are exactly those the tasks record.
  ASSERT_EQ(server_->Stop(SIGTERM), 0);
  const fs::path data(data_dir_);
  int aged = 0;
  for (const fs::path& folder : {data / "blobs" / "tmp", data / "uploads" / "tmp", data / "scratch"}) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      fs::last_write_time(it->path(), fs::file_time_type::clock::now() - std::chrono::hours(7), ec);
      aged += it->is_regular_file() && it->path().extension() == ".part";
    }
  }
  StartServer({"--outputs-reconcile-interval-s", "1"});
  std::set<std::string> expected;
  for (const auto& [key, link] : output_links) expected.insert(key);
  std::set<std::string> leftovers;
  for (auto until = Clock::now() + std::chrono::seconds(30); Clock::now() < until; SleepMs(500)) {
    leftovers.clear();
    for (const auto& f : FilesUnder(data / "blobs" / "tmp")) leftovers.insert("blobs/tmp/" + f);
    for (const auto& f : FilesUnder(data / "uploads" / "tmp")) leftovers.insert("uploads/tmp/" + f);
    std::error_code ec;
    for (auto it = fs::directory_iterator(data / "scratch", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      leftovers.insert("scratch/" + it->path().filename().string());
    }
    if (leftovers.empty() && FilesUnder(data / "blobs", "tmp") == expected) break;
  }
  EXPECT_EQ(leftovers, std::set<std::string>{});
  EXPECT_EQ(FilesUnder(data / "blobs", "tmp"), expected) << "output files no task records, or records without files";
  for (const auto& [key, link] : output_links) {
    auto got = net::Fetch({"GET", link, {}, "", 15'000});
    EXPECT_TRUE(got.ok() && got->status == 200) << "after the sweeps: " << link;
  }
  std::printf("soak: %d half-written files left by kills, %zu after the start-up sweep; %zu outputs on disk\n", aged,
              leftovers.size(), expected.size());
}

}  // namespace
}  // namespace wanserve::soak
