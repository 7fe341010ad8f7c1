// Credits through the public API: holds, 402s, refunds, and a ledger that stays consistent
// under concurrency and crashes.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "e2e_fixture.h"

namespace wanserve::e2e {
namespace {

using BillingE2E = ServerTest;

TEST_F(BillingE2E, InsufficientCreditsIs402InEachDialectAndCreatesNoTask) {
  StartServer();
  const std::string key = FundedKey(10);
  auto skills = Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})", key);
  EXPECT_EQ(skills.status, 402);
  EXPECT_EQ(json::parse(skills.body)["code"], "IMAGE_GENERATION_INSUFFICIENT_CREDITS");
  auto unified = Authed("POST", "/v1/videos/generations", R"({"model":"wan2.7-text-to-video","prompt":"x"})", key);
  EXPECT_EQ(unified.status, 402);
  EXPECT_EQ(json::parse(unified.body)["error"]["code"], "insufficient_quota");
  auto market = Authed("POST", "/api/v1/jobs/createTask", R"({"model":"wan/2-7-image","input":{"prompt":"x"}})", key);
  EXPECT_EQ(json::parse(market.body)["code"], 402);
  EXPECT_TRUE(json::parse(Authed("GET", "/api/v1/generations/running", "", key).body).empty());
  EXPECT_EQ(Credits(key)["total"], 10);
  ExpectLedgerClean();
}

TEST_F(BillingE2E, WithBillingOffTasksAreFreeButLimitsStillHold) {
  StartServer({"--billing-enabled", "false", "--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2",
               "--providers-testpattern-step-delay-ms", "0"});
  const std::string key = FundedKey(0, 0, "", {}, {"--rpm", "2"});
  auto r = Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})", key);
  ASSERT_EQ(r.status, 200) << "no credits needed: " << r.body;
  EXPECT_EQ(json::parse(r.body)["usage"]["total"], 0);
  EXPECT_EQ(WaitDone(json::parse(r.body)["id"], 120, key)["usage"]["total"], 0);
  EXPECT_EQ(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})", key).status, 200);
  EXPECT_EQ(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x"})", key).status, 429);
  EXPECT_EQ(Credits(key)["total"], 0);
  ExpectLedgerClean();
}

TEST_F(BillingE2E, UsageShowsTheSplitAndCreditsEndpointsAgree) {
  StartServer();
  const std::string key = FundedKey(1000, 30, "2099-01-01T00:00:00Z");
  auto r = json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"x","n":2})", key).body);
  EXPECT_EQ(r["usage"], json::parse(R"({"total":40,"subscription":30,"permanent":10})"));
  json done = WaitDone(r["id"], 120, key);
  EXPECT_EQ(done["usage"]["total"], 40) << "success keeps the charge";
  EXPECT_EQ(Credits(key)["total"], 990);
  EXPECT_EQ(Credits(key)["subscription"], 0);
  auto unified = json::parse(Authed("GET", "/v1/credits", "", key).body);
  EXPECT_EQ(unified["data"]["user"]["remaining_credits"], 990);
  EXPECT_EQ(unified["data"]["user"]["used_credits"], 40);
  EXPECT_EQ(unified["data"]["token"]["used_credits"], 40);
  EXPECT_EQ(json::parse(Authed("GET", "/api/v1/chat/credit", "", key).body)["data"], 990);
  ExpectLedgerClean();
}

TEST_F(BillingE2E, TheTokenViewIsTheKeysBudgetUnderItsCap) {
  StartServer();
  const std::string capped = FundedKey(1000, 0, "", {}, {"--credit-cap", "100"});
  auto r = json::parse(Authed("POST", "/v1/images/generations", R"({"model":"wan-2.7-image","prompt":"x","n":2})",
                              capped).body);
  ASSERT_TRUE(r.contains("id")) << r.dump();
  auto held = json::parse(Authed("GET", "/v1/credits", "", capped).body)["data"];
  EXPECT_EQ(held["token"]["remaining_credits"], 60) << "40 held against a cap of 100";
  EXPECT_EQ(held["token"]["used_credits"], 0) << "held is not yet used";
  WaitDone(r["id"], 120, capped);
  auto data = json::parse(Authed("GET", "/v1/credits", "", capped).body)["data"];
  EXPECT_EQ(data["token"]["remaining_credits"], 60);
  EXPECT_EQ(data["token"]["unlimited_credits"], false);
  EXPECT_EQ(data["token"]["used_credits"], 40);
  EXPECT_EQ(data["user"]["remaining_credits"], 960);
  EXPECT_EQ(json::parse(Authed("GET", "/api/v1/chat/credit", "", capped).body)["data"], 60);

  // A second key on the same account, without a cap, sees the account's credits.
  auto second = testing::RunCommand({testing::WanserveBinary(), "admin", "keys", "create", "--data", data_dir_,
                                     "--account", account_});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string open_key = testing::LastLine(second.out);
  auto other = json::parse(Authed("GET", "/v1/credits", "", open_key).body)["data"];
  EXPECT_EQ(other["token"]["unlimited_credits"], true);
  EXPECT_EQ(other["token"]["remaining_credits"], 960);
  EXPECT_EQ(other["token"]["used_credits"], 0);
  EXPECT_EQ(other["user"]["used_credits"], 40);
  ExpectLedgerClean();
}

TEST_F(BillingE2E, RateAndConcurrencyLimitsAre429WithRetryAfterInEachDialect) {
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "100", "--providers-testpattern-step-delay-ms", "100"});
  const std::string rate_key = FundedKey(10'000, 0, "", {}, {"--rpm", "2"});
  const std::string body = R"({"prompt":"x"})";
  EXPECT_EQ(Authed("POST", "/api/v1/generation/wan/wan-v2.7", body, rate_key).status, 200);
  EXPECT_EQ(Authed("POST", "/api/v1/generation/wan/wan-v2.7", body, rate_key).status, 200);
  auto skills = Authed("POST", "/api/v1/generation/wan/wan-v2.7", body, rate_key);
  EXPECT_EQ(skills.status, 429);
  EXPECT_EQ(json::parse(skills.body)["code"], "IMAGE_GENERATION_RATE_LIMITED");
  EXPECT_EQ(skills.headers["retry-after"], "30");
  auto unified = Authed("POST", "/v1/images/generations", R"({"model":"wan-2.7-image","prompt":"x"})", rate_key);
  EXPECT_EQ(unified.status, 429);
  EXPECT_EQ(json::parse(unified.body)["error"]["type"], "rate_limit_error");
  EXPECT_FALSE(unified.headers["retry-after"].empty());

  const std::string busy_key = FundedKey(10'000, 0, "", {"--max-concurrent", "1"});
  EXPECT_EQ(json::parse(Authed("POST", "/api/v1/jobs/createTask",
                               R"({"model":"wan/2-7-image","input":{"prompt":"x","resolution":"1K"}})", busy_key).body)["code"], 200);
  auto market = Authed("POST", "/api/v1/jobs/createTask",
                       R"({"model":"wan/2-7-image","input":{"prompt":"x","resolution":"1K"}})", busy_key);
  EXPECT_EQ(json::parse(market.body)["code"], 429);
  EXPECT_EQ(market.headers["retry-after"], "1");
  ExpectLedgerClean();
}

TEST_F(BillingE2E, TwoHundredParallelSubmitsAgainstCreditsForExactly57) {
  StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "1", "--providers-testpattern-step-delay-ms", "0"});
  const std::string key = FundedKey(57 * 20);  // one wan-v2.7 image costs 20
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto r = net::Fetch({"POST", server_->base_url() + "/api/v1/generation/wan/wan-v2.7",
                             {"Authorization: Bearer " + key, "Content-Type: application/json"},
                             R"({"prompt":"race","aspect_ratio":"1:1"})", 60'000});
        if (!r.ok()) ++other;
        else if (r->status == 200) ++accepted;
        else if (r->status == 402) ++refused;
        else ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 57);
  EXPECT_EQ(refused.load(), 200 - 57);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(Credits(key)["total"], 0);
  ExpectLedgerClean();
}

TEST_F(BillingE2E, FailureAndCancelReleaseTheHold) {
  const auto cfg = dir_.path() / "wanserve.toml";
  // The image edit's reference cannot be fetched (.invalid never resolves), so it fails; videos
  // run slowly.
  std::ofstream(cfg) << "[providers.testpattern]\nenabled = true\nsteps = 100\nstep_delay_ms = 100\n[workers]\ncount = 1\n"
                        "[pricing.t2v_per_second]\n\"720p\" = 5\n";
  StartServer({"--config", cfg.string()});
  const std::string key = FundedKey(500);
  const std::string img = json::parse(Authed("POST", "/v1/images/generations",
                                             R"({"model":"wan-2.7-image","prompt":"x","image_urls":["https://example.invalid/a.png"]})",
                                             key).body)["id"];
  json failed = WaitDone(img, 120, key);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["usage"]["credits_reserved"], 0) << "a failed task is not charged";
  EXPECT_EQ(Credits(key)["total"], 500);

  const std::string body = R"({"model":"wan2.7-text-to-video","prompt":"x","duration":5})";
  const std::string running = json::parse(Authed("POST", "/v1/videos/generations", body, key).body)["id"];
  const std::string queued = json::parse(Authed("POST", "/v1/videos/generations", body, key).body)["id"];
  EXPECT_EQ(Credits(key)["total"], 450) << "two 5 s 720p videos at the configured 5 credits a second";
  for (int i = 0; i < 200 && json::parse(Authed("GET", "/v1/tasks/" + running, "", key).body)["status"] != "processing"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Authed("POST", "/v1/tasks/" + queued + "/cancel", "", key);
  Authed("POST", "/v1/tasks/" + running + "/cancel", "", key);
  WaitDone(running, 30, key);
  EXPECT_EQ(Credits(key)["total"], 500);
  ExpectLedgerClean();
}

TEST_F(BillingE2E, AVideoEditThatKeepsTheInputDurationIsHeldAtTheMaximumThenChargedOnTheProbedInput) {
  StartServer();
  const std::string key = FundedKey(100);
  const std::string url = UploadClip(3, key);
  const std::string body =
      json{{"model", "wan2.7-video-edit"}, {"prompt", "clay"}, {"video_urls", {url}}}.dump();
  auto submitted = json::parse(Authed("POST", "/v1/videos/generations", body, key).body);
  EXPECT_EQ(submitted["usage"]["credits_reserved"], 40) << "10 s in + 10 s out at 2 credits until probed";
  json done = WaitDone(submitted["id"], 120, key);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  EXPECT_EQ(done["usage"]["credits_reserved"], 12) << "3 s in + 3 s out at 2 credits";
  EXPECT_EQ(Credits(key)["total"], 88);
  auto unified = json::parse(Authed("GET", "/v1/credits", "", key).body);
  EXPECT_EQ(unified["data"]["user"]["used_credits"], 12);
  ExpectLedgerClean();
}

TEST_F(BillingE2E, Kill9WithPaidTasksInFlightLeavesTheLedgerBalanced) {
  const std::vector<std::string> flags = {"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "3", "--providers-testpattern-step-delay-ms",
                                          "50", "--workers-lease-ms", "1000", "--workers-renew-every-ms", "200",
                                          "--workers-recovery-every-ms", "200"};
  StartServer(flags);
  const std::string key = FundedKey(20 * 30);
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    ids.push_back(json::parse(Authed("POST", "/api/v1/generation/wan/wan-v2.7", R"({"prompt":"k"})", key).body)["id"]);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  RestartServer(SIGKILL, flags);
  for (const auto& id : ids) EXPECT_EQ(WaitDone(id, 120, key)["status"], "COMPLETED");
  EXPECT_EQ(Credits(key)["total"], 0) << "each task charged exactly once";
  ExpectLedgerClean();
}

TEST_F(BillingE2E, Kill9AtRandomPointsOfAMixedLoadChargesEachSucceededTaskOnceAndNothingElse) {
  const auto cfg = dir_.path() / "wanserve.toml";
  // Pro image edits name a reference that cannot be fetched (.invalid never resolves), so they
  // fail and must be refunded.
  std::ofstream(cfg) << "[providers.testpattern]\nenabled = true\nsteps = 4\nstep_delay_ms = 40\n"
                        "[workers]\ncount = 2\nlease_ms = 1000\nrenew_every_ms = 200\nrecovery_every_ms = 200\n";
  const std::vector<std::string> flags = {"--config", cfg.string()};
  StartServer(flags);
  constexpr int64_t kGrant = 5000;
  const std::string key = FundedKey(kGrant - 100, 100, "2099-01-01T00:00:00Z");
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));

  struct Submitted {
    std::string id;
    int64_t price;
    bool canceled;
  };
  std::vector<Submitted> tasks;
  auto submit = [&](const std::string& path, const std::string& body, int64_t price) {
    auto r = Authed("POST", path, body, key);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    json j = json::parse(r.body);
    const bool market = path.starts_with("/api/v1/jobs/");
    std::string id = market ? j["data"].value("taskId", "") : j.value("id", "");
    ASSERT_FALSE(id.empty()) << r.body;
    bool cancel = std::uniform_int_distribution<int>(0, 4)(rng) == 0;
    if (cancel) {
      const std::string cancel_path = id.starts_with("gen_") ? "/api/v1/generation/" + id + "/cancel"
                                      : id.starts_with("task-unified-") ? "/v1/tasks/" + id + "/cancel"
                                                                        : "/api/v1/jobs/cancelTask?taskId=" + id;
      Authed("POST", cancel_path, "", key);
    }
    tasks.push_back({id, price, cancel});
  };
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i) {
      submit("/api/v1/generation/wan/wan-v2.7", R"({"prompt":"mixed"})", 20);
      submit("/v1/videos/generations", R"({"model":"wan2.7-text-to-video","prompt":"mixed","duration":2})", 8);
      submit("/api/v1/jobs/createTask", R"({"model":"wan/2-7-image","input":{"prompt":"mixed"}})", 20);
      if (i % 2 == 0) {
        submit("/api/v1/generation/wan/wan-v2.7-pro",
               R"({"prompt":"mixed","image_urls":["https://example.invalid/ref.png"]})", 40);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 600)(rng)));
    RestartServer(SIGKILL, flags);
  }

  int64_t spent = 0;
  std::map<std::string, int> outcomes;
  for (const auto& t : tasks) {
    json done = WaitDone(t.id, 120, key);
    const std::string state =
        t.id.starts_with("task_wan_") ? done["data"].value("state", "") : done.value("status", "");
    ++outcomes[state];
    const bool succeeded = state == "COMPLETED" || state == "completed" || state == "success";
    if (succeeded) spent += t.price;
    if (t.price == 40) {
      EXPECT_FALSE(succeeded) << t.id << " ran without its reference image";
    }
    // Three kills and at most three attempts: a task running at every kill is given up on,
    // rightly, and must be refunded like any other failure.
    const bool lost_to_every_kill = done.dump().find("stopped 3 times") != std::string::npos;
    if (!succeeded && !t.canceled && t.price != 40 && !lost_to_every_kill) {
      ADD_FAILURE() << t.id << " failed: " << done.dump();
    }
  }
  std::string summary;
  for (const auto& [state, n] : outcomes) summary += state + "=" + std::to_string(n) + " ";
  SCOPED_TRACE(summary);
  EXPECT_EQ(Credits(key)["total"], kGrant - spent) << "each succeeded task charged once, every other one refunded";
  ExpectLedgerClean();
}

}  // namespace
}  // namespace wanserve::e2e
