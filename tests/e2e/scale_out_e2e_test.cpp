// Several wanserve processes on one PostgreSQL database, as a scaled-out deployment runs them
// (docs/scale-out.md): api nodes take submits and run nothing, worker nodes run what any node
// queued, and a worker killed mid-task loses nothing: another finishes the task, charged once.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "e2e_fixture.h"

namespace wanserve::e2e {
namespace {

std::vector<std::string> Testpattern(int steps, int step_delay_ms) {
  return {"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", std::to_string(steps),
          "--providers-testpattern-step-delay-ms", std::to_string(step_delay_ms)};
}

std::vector<std::string> With(std::vector<std::string> flags, const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

class ScaleOutE2E : public ServerTest {
 protected:
  void SetUp() override { UsePostgres(); }

  std::string Submit(const std::string& key, const std::string& prompt) {
    auto r = Authed("POST", "/v1/images/generations", json{{"model", "wan-2.7-image"}, {"prompt", prompt}}.dump(), key);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).value("id", "");
  }

  json Task(const std::string& id, const std::string& key) {
    return json::parse(Authed("GET", "/v1/tasks/" + id, "", key).body);
  }
};

TEST_F(ScaleOutE2E, ApiNodesQueueAndWorkerNodesRunWhatAnyNodeQueued) {
  StartServer(With(Testpattern(2, 0), {"--role", "api"}));
  const std::string key = FundedKey(10'000);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Submit(key, "cat " + std::to_string(i)));
  // An api node runs nothing: the tasks wait for a worker.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(Task(ids.front(), key).value("status", ""), "pending");

  testing::ServerProcess worker_a(data_dir_, With(Testpattern(2, 0), {"--role", "worker"}));
  testing::ServerProcess worker_b(data_dir_, With(Testpattern(2, 0), {"--role", "worker"}));
  for (const auto& id : ids) EXPECT_EQ(WaitDone(id, 60, key).value("status", ""), "completed");

  // Tasks submitted now reach the idle workers through the database's notifications.
  const std::string late = Submit(key, "late cat");
  EXPECT_EQ(WaitDone(late, 30, key).value("status", ""), "completed");

  // A worker node answers health and metrics, not the APIs.
  auto health = net::Fetch({"GET", worker_a.base_url() + "/healthz", {}, "", 10'000});
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  auto api = net::Fetch({"GET", worker_a.base_url() + "/v1/tasks/" + late,
                         {"Authorization: Bearer " + key}, "", 10'000});
  ASSERT_TRUE(api.ok());
  EXPECT_EQ(api->status, 404);
  ExpectLedgerClean();
}

TEST_F(ScaleOutE2E, AWorkerKilledMidTaskLosesNothingAnotherFinishesIt) {
  const std::vector<std::string> short_leases = {"--workers-lease-ms", "2000", "--workers-renew-every-ms", "400",
                                                 "--workers-recovery-every-ms", "300"};
  StartServer(With(Testpattern(2, 0), {"--role", "api"}));
  const std::string key = FundedKey(10'000);
  const int64_t before = Credits(key)["total"];
  auto doomed = std::make_unique<testing::ServerProcess>(
      data_dir_, With(With(Testpattern(30, 100), {"--role", "worker"}), short_leases));
  const std::string id = Submit(key, "a long cat");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Task(id, key).value("status", "") != "processing" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Task(id, key).value("status", ""), "processing");
  doomed->Stop(SIGKILL);
  testing::ServerProcess survivor(data_dir_, With(With(Testpattern(30, 20), {"--role", "worker"}), short_leases));
  const json done = WaitDone(id, 60, key);
  EXPECT_EQ(done.value("status", ""), "completed") << done.dump();
  const int64_t charged = before - Credits(key)["total"].get<int64_t>();
  // Charged once: what one more task of the same kind costs.
  const std::string another = Submit(key, "another cat");
  ASSERT_EQ(WaitDone(another, 60, key).value("status", ""), "completed");
  EXPECT_EQ(before - Credits(key)["total"].get<int64_t>(), 2 * charged);
  ExpectLedgerClean();
}

// libfaketime (Debian's libfaketime) shifts a node's wall clock; installed by bootstrap.
constexpr const char* kFakeTime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

std::vector<std::string> ClockShiftedBy(const std::string& offset) {
  // Timeouts and sleeps keep the real monotonic clock; under ASan the run's options stay, and
  // the sanitizer tolerates the library preloaded before its runtime.
  const char* asan = std::getenv("ASAN_OPTIONS");
  return {std::string("LD_PRELOAD=") + kFakeTime, "FAKETIME=" + offset, "FAKETIME_DONT_FAKE_MONOTONIC=1",
          std::string("ASAN_OPTIONS=") + (asan && *asan ? std::string(asan) + ":" : "") + "verify_asan_link_order=0"};
}

TEST_F(ScaleOutE2E, LeasesAreJudgedByTheDatabaseClockNotByANodesClock) {
  if (!std::filesystem::exists(kFakeTime)) GTEST_SKIP() << kFakeTime << " is absent (scripts/bootstrap.sh installs it)";
  const std::vector<std::string> short_leases = {"--workers-lease-ms", "3000", "--workers-renew-every-ms", "500",
                                                 "--workers-recovery-every-ms", "300"};
  StartServer(With(Testpattern(2, 0), {"--role", "api"}));
  const std::string key = FundedKey(10'000);
  // A node ten minutes behind takes the task: judged by its own clock, its lease would have
  // ended before it began.
  testing::ServerProcess behind(data_dir_, With(With(Testpattern(40, 100), {"--role", "worker"}), short_leases),
                                ClockShiftedBy("-10m"));
  const std::string id = Submit(key, "a patient cat");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Task(id, key).value("status", "") != "processing" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Task(id, key).value("status", ""), "processing");
  // A node ten minutes ahead sweeps for expired leases every 300 ms while the task runs.
  testing::ServerProcess ahead(data_dir_, With(With(Testpattern(2, 0), {"--role", "worker"}), short_leases),
                               ClockShiftedBy("+10m"));
  const json done = WaitDone(id, 60, key);
  ASSERT_EQ(done.value("status", ""), "completed") << done.dump();
  // Finished by its first attempt: nobody took the lease away from the node that held it.
  const std::string url = done["results"][0];
  EXPECT_NE(url.find("/" + id + "/1/"), std::string::npos) << done.dump();
  EXPECT_EQ(behind.log().find("lease lost"), std::string::npos) << behind.log();
  // And the node ahead runs tasks of its own to the end.
  const std::string next = Submit(key, "a prompt cat");
  EXPECT_EQ(WaitDone(next, 60, key).value("status", ""), "completed");
  ExpectLedgerClean();
}

}  // namespace
}  // namespace wanserve::e2e
