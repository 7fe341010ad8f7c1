// The scale-out chaos harness: API and worker processes on one PostgreSQL database, clients
// submitting from accounts with tight credits and limits (every submit with an
// Idempotency-Key, retried on any unclear answer, some replayed on purpose, some canceled
// mid-run), callbacks to a local receiver, while a chaos thread kill -9s workers and API nodes,
// pauses a worker past its lease and restarts the database. At the end every accepted task is
// terminal with its outputs present, settled once, its callback delivered under one id, and
// every balance is what the successful tasks cost.
//
// CI runs a short round; tests/chaos/run.sh runs a long one (WANSERVE_CHAOS_TASKS, _CLIENTS).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "net/http_client.h"
#include "testing/loopback_http_server.h"
#include "testing/postgres_cluster.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace wanserve::chaos {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

void SleepMs(int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// The wanserve processes: a fixed number of API and worker slots, each restartable.
class Nodes {
 public:
  Nodes(std::string data_dir, std::vector<std::string> api_flags, std::vector<std::string> worker_flags)
      : data_dir_(std::move(data_dir)), api_flags_(std::move(api_flags)), worker_flags_(std::move(worker_flags)) {}

  void Start(int apis, int workers) {
    for (int i = 0; i < apis; ++i) apis_.push_back(Launch(api_flags_));
    for (int i = 0; i < workers; ++i) workers_.push_back(Launch(worker_flags_));
  }

  // Any live API node's base URL (clients retry elsewhere when it is gone).
  std::string AnyApi(std::mt19937& rng) {
    std::lock_guard lock(mu_);
    std::vector<std::string> live;
    for (const auto& a : apis_) {
      if (a) live.push_back(a->base_url());
    }
    if (live.empty()) return "";
    return live[rng() % live.size()];
  }

  void KillAndRestart(bool api, size_t index) {
    auto& slot = api ? apis_ : workers_;
    std::unique_ptr<testing::ServerProcess> victim;
    {
      std::lock_guard lock(mu_);
      victim = std::move(slot[index % slot.size()]);
    }
    if (victim) victim->Stop(SIGKILL);
    auto fresh = Launch(api ? api_flags_ : worker_flags_);
    std::lock_guard lock(mu_);
    slot[index % slot.size()] = std::move(fresh);
  }

  pid_t WorkerPid(size_t index) {
    std::lock_guard lock(mu_);
    return workers_[index % workers_.size()] ? workers_[index % workers_.size()]->pid() : -1;
  }

  void StopAll() {
    std::lock_guard lock(mu_);
    for (auto& p : apis_) p.reset();
    for (auto& p : workers_) p.reset();
  }

 private:
  // A node may fail to start while the database restarts: it tries again.
  std::unique_ptr<testing::ServerProcess> Launch(const std::vector<std::string>& flags) {
    for (int attempt = 0;; ++attempt) {
      try {
        return std::make_unique<testing::ServerProcess>(data_dir_, flags);
      } catch (const std::exception& e) {
        if (attempt == 20) throw;
        SleepMs(500);
      }
    }
  }

  std::string data_dir_;
  std::vector<std::string> api_flags_;
  std::vector<std::string> worker_flags_;
  std::mutex mu_;
  std::vector<std::unique_ptr<testing::ServerProcess>> apis_;
  std::vector<std::unique_ptr<testing::ServerProcess>> workers_;
};

struct Outcome {
  std::string id;         // empty: refused (402/429) or never accepted
  std::string account;
  std::string key;
  bool cancel_sent = false;
};

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    db_ = testing::PostgresCluster::StartPrivate(&why);
    if (!db_) GTEST_SKIP() << why;
    setenv("WANSERVE_STORE_URL", db_->FreshSchemaUrl().c_str(), 1);
  }
  void TearDown() override { unsetenv("WANSERVE_STORE_URL"); }

  testing::CommandResult Admin(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::WanserveBinary(), "admin"});
    args.insert(args.end(), {"--data", data_dir_, "--create"});
    return testing::RunCommand(args);
  }

  // An account with credits and a concurrency limit, and a key on it.
  std::pair<std::string, std::string> Account(const std::string& name, int64_t credits, int max_concurrent) {
    auto a = Admin({"accounts", "create", "--name", name, "--permanent-credits", std::to_string(credits),
                    "--max-concurrent", std::to_string(max_concurrent)});
    EXPECT_EQ(a.exit_code, 0) << a.err;
    const std::string account = testing::LastLine(a.out);
    auto k = Admin({"keys", "create", "--account", account});
    EXPECT_EQ(k.exit_code, 0) << k.err;
    return {account, testing::LastLine(k.out)};
  }

  // A request sent until it gets a definite answer from some API node (a dead node, a 5xx or
  // a dropped connection is not one); returns it, or status 0 past the deadline.
  net::HttpResult Send(std::mt19937& rng, const std::string& method, const std::string& path, const std::string& body,
                       const std::string& key, const std::string& idempotency_key = "") {
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (Clock::now() < deadline) {
      const std::string base = nodes_->AnyApi(rng);
      if (!base.empty()) {
        std::vector<std::string> headers = {"Authorization: Bearer " + key, "Content-Type: application/json"};
        if (!idempotency_key.empty()) headers.push_back("Idempotency-Key: " + idempotency_key);
        auto r = net::Fetch({method, base + path, headers, body, 15'000});
        if (r.ok() && r->status < 500) return *r;
      }
      SleepMs(100 + static_cast<int64_t>(rng() % 200));
    }
    return {};
  }

  std::string Status(std::mt19937& rng, const std::string& id, const std::string& key) {
    auto r = Send(rng, "GET", "/v1/tasks/" + id, "", key);
    return r.status == 200 ? json::parse(r.body).value("status", "") : "";
  }

  testing::TempDir dir_;
  std::string data_dir_ = (dir_.path() / "data").string();
  std::unique_ptr<testing::PostgresCluster> db_;
  std::unique_ptr<Nodes> nodes_;
};

TEST_F(ChaosTest, NothingIsLostChargedTwiceOrLeftRunning) {
  const int tasks = EnvInt("WANSERVE_CHAOS_TASKS", 60);
  const int clients = EnvInt("WANSERVE_CHAOS_CLIENTS", 6);
  const testing::TestPki pki = testing::MakeTestPki(dir_.str());
  testing::LoopbackHttpServer receiver([](const testing::ReceivedRequest&, int) { return testing::ScriptedResponse(200); },
                                       &pki);
  const std::vector<std::string> common = {"--providers-testpattern-enabled", "true",
                                           "--providers-testpattern-steps", "8",
                                           "--providers-testpattern-step-delay-ms", "60",
                                           "--allow-network", "127.0.0.1/32", "--outbound-ca-file", pki.ca_file,
                                           "--workers-lease-ms", "2000", "--workers-renew-every-ms", "500",
                                           "--workers-recovery-every-ms", "400", "--workers-count", "2"};
  auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> flags = common;
    flags.insert(flags.end(), more.begin(), more.end());
    return flags;
  };
  nodes_ = std::make_unique<Nodes>(data_dir_, with({"--role", "api"}), with({"--role", "worker"}));
  ASSERT_NO_THROW(nodes_->Start(2, 3));

  // What one task costs, measured before the chaos on an account of its own.
  std::mt19937 rng(7);
  const auto [calibration_account, calibration_key] = Account("calibration", 1'000'000, 0);
  auto credits = [&](const std::string& key) {
    auto r = Send(rng, "GET", "/api/v1/credits", "", key);
    return r.status == 200 ? json::parse(r.body).value("total", int64_t{-1}) : int64_t{-1};
  };
  const std::string image_body = json{{"model", "wan-2.7-image"}, {"prompt", "calibration"}}.dump();
  auto first = Send(rng, "POST", "/v1/images/generations", image_body, calibration_key);
  ASSERT_EQ(first.status, 200) << first.body;
  const int64_t price = 1'000'000 - credits(calibration_key);
  ASSERT_GT(price, 0);

  // Accounts that can pay for about two thirds of their share, and run three tasks at once.
  constexpr int kAccounts = 4;
  std::vector<std::pair<std::string, std::string>> accounts;
  const int64_t initial = price * (tasks / kAccounts) * 2 / 3;
  for (int a = 0; a < kAccounts; ++a) accounts.push_back(Account("chaos" + std::to_string(a), initial, 3));

  std::vector<Outcome> outcomes(static_cast<size_t>(tasks));
  std::atomic<int> next{0};
  std::atomic<int> finished_clients{0};
  std::mutex failures_mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(failures_mu);
    failures.push_back(what);
  };

  std::vector<std::thread> client_threads;
  for (int c = 0; c < clients; ++c) {
    client_threads.emplace_back([&, c] {
      std::mt19937 crng(100 + static_cast<unsigned>(c));
      for (int i = next++; i < tasks; i = next++) {
        Outcome& o = outcomes[static_cast<size_t>(i)];
        const auto& [account, key] = accounts[static_cast<size_t>(i % kAccounts)];
        o.account = account;
        o.key = key;
        const std::string body = json{{"model", "wan-2.7-image"}, {"prompt", "chaos " + std::to_string(i)},
                                      {"callback_url", receiver.Url("/cb")}}.dump();
        const std::string idem = "chaos-" + std::to_string(i);
        // Refused for credits or limits: the client waits a little and tries again, as clients do.
        net::HttpResult r;
        for (int tries = 0; tries < 6; ++tries) {
          r = Send(crng, "POST", "/v1/images/generations", body, key, idem);
          if (r.status != 429) break;
          SleepMs(300);
        }
        if (r.status == 402 || r.status == 429) continue;
        if (r.status != 200) {
          fail("task " + std::to_string(i) + ": submit answered " + std::to_string(r.status) + " " + r.body);
          continue;
        }
        o.id = json::parse(r.body).value("id", "");
        if (crng() % 10 == 0) {
          auto replay = Send(crng, "POST", "/v1/images/generations", body, key, idem);
          const std::string again = replay.status == 200 ? json::parse(replay.body).value("id", "") : "";
          if (again != o.id) fail("replay of " + o.id + " answered " + std::to_string(replay.status) + " " + again);
        }
        if (crng() % 10 == 1) {
          const auto until = Clock::now() + std::chrono::seconds(10);
          while (Status(crng, o.id, key) == "pending" && Clock::now() < until) SleepMs(50);
          const auto canceled = Send(crng, "POST", "/v1/tasks/" + o.id + "/cancel", "", key);
          o.cancel_sent = canceled.status == 200;
        }
      }
      ++finished_clients;
    });
  }

  // The chaos: a worker killed every ~2 s, an API node every ~7 s, one worker paused past its
  // lease, one immediate database restart.
  // The round lasts until the clients are done and every kind of fault happened at least once.
  std::atomic<int> worker_kills{0}, api_kills{0}, pauses{0}, db_restarts{0};
  std::thread chaos([&] {
    std::mt19937 crng(99);
    for (int round = 1; finished_clients.load() < clients || round <= 6; ++round) {
      SleepMs(1000 + static_cast<int64_t>(crng() % 1000));
      if (round == 2) {
        const pid_t pid = nodes_->WorkerPid(crng());
        if (pid > 0) {
          ::kill(pid, SIGSTOP);
          SleepMs(3500);  // past the 2 s lease: its tasks are rescued, its late writes refused
          ::kill(pid, SIGCONT);
          ++pauses;
        }
      } else if (round == 4) {
        db_->RestartImmediate();
        ++db_restarts;
      } else if (round % 3 == 0) {
        nodes_->KillAndRestart(true, crng());
        ++api_kills;
      } else {
        nodes_->KillAndRestart(false, crng());
        ++worker_kills;
      }
    }
  });
  for (auto& t : client_threads) t.join();
  chaos.join();
  for (const auto& f : failures) ADD_FAILURE() << f;

  // Every accepted task ends, and its outputs are there.
  std::map<std::string, std::string> final_status;
  std::map<std::string, int> succeeded_per_account;
  std::map<std::string, int> ended_by;  // failed tasks by error code
  int accepted = 0;
  for (const Outcome& o : outcomes) {
    if (o.id.empty()) continue;
    ++accepted;
    const auto deadline = Clock::now() + std::chrono::seconds(90);
    std::string status;
    json view;
    while (Clock::now() < deadline) {
      auto r = Send(rng, "GET", "/v1/tasks/" + o.id, "", o.key);
      view = r.status == 200 ? json::parse(r.body) : json::object();
      status = view.value("status", "");
      if (status == "completed" || status == "failed") break;
      SleepMs(200);
    }
    final_status[o.id] = status;
    if (status == "failed") ++ended_by[view.value("error", json::object()).value("code", "") + (o.cancel_sent ? " (canceled)" : "")];
    EXPECT_TRUE(status == "completed" || status == "failed") << o.id << " never ended: " << view.dump();
    if (status != "completed") continue;
    ++succeeded_per_account[o.account];
    for (const auto& out : view.value("results", json::array())) {
      const std::string url = out.get<std::string>();
      auto got = net::Fetch({"GET", url, {}, "", 15'000});
      EXPECT_TRUE(got.ok() && got->status == 200 && !got->body.empty()) << o.id << " output missing: " << url;
    }
  }
  EXPECT_GT(accepted, tasks / 3) << "the limits refused almost everything: the round proves little";
  int completed = 0;
  for (const auto& [id, status] : final_status) completed += status == "completed";
  std::printf("chaos: %d tasks, %d accepted, %d completed, %d failed or canceled; %d worker kills, %d API node kills, "
              "%d pause, %d database restart\n",
              tasks, accepted, completed, accepted - completed, worker_kills.load(), api_kills.load(), pauses.load(),
              db_restarts.load());
  for (const auto& [code, n] : ended_by) std::printf("chaos: %d ended %s\n", n, code.c_str());

  // Charged exactly for what succeeded; the ledger explains every balance and settles each
  // hold once.
  for (const auto& [account, key] : accounts) {
    EXPECT_EQ(credits(key), initial - price * succeeded_per_account[account]) << account;
  }
  auto check = Admin({"ledger", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  // One callback per task, under one stable webhook id, saying how it ended.
  const auto callbacks_deadline = Clock::now() + std::chrono::seconds(60);
  std::map<std::string, std::set<std::string>> ids_per_task;
  std::map<std::string, std::set<std::string>> statuses_per_task;
  for (;;) {
    ids_per_task.clear();
    statuses_per_task.clear();
    for (const auto& r : receiver.Requests()) {
      const json body = json::parse(r.body, nullptr, false);
      const std::string id = body.is_object() ? body.value("id", "") : "";
      ids_per_task[id].insert(r.headers.count("webhook-id") ? r.headers.at("webhook-id") : "");
      statuses_per_task[id].insert(body.is_object() ? body.value("status", "") : "");
    }
    if (ids_per_task.size() >= final_status.size() || Clock::now() > callbacks_deadline) break;
    SleepMs(500);
  }
  for (const auto& [id, status] : final_status) {
    ASSERT_TRUE(ids_per_task.count(id)) << id << " (" << status << ") got no callback";
    EXPECT_EQ(ids_per_task[id].size(), 1u) << id << ": one delivery id on every attempt";
    EXPECT_EQ(statuses_per_task[id], std::set<std::string>{status}) << id << ": callbacks disagree with the task";
  }
  nodes_->StopAll();
}

}  // namespace
}  // namespace wanserve::chaos
