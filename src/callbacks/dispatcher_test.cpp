#include "callbacks/dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>

#include <nlohmann/json.hpp>

#include "callbacks/dead_letters.h"
#include "callbacks/signature.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/loopback_http_server.h"
#include "testing/sample_task.h"
#include "testing/temp_dir.h"
#include "testing/test_pki.h"

namespace wanserve::callbacks {
namespace {

using testing::LoopbackHttpServer;
using testing::ReceivedRequest;
using testing::ScriptedResponse;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore({(dir_.path() / "t.db").string()});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    pki_ = testing::MakeTestPki(dir_.str());
    net::OutboundOptions o;
    o.allowlist = *net::ParseAllowList("127.0.0.1/32");
    o.extra_ca_file = pki_.ca_file;
    client_ = std::make_unique<net::OutboundClient>(o);
  }

  // A task that finished (canceled while queued) with its callback in the outbox.
  void FinishTaskWithCallback(const std::string& id, const std::string& url) {
    core::Task t = testing::SampleTask(id, clock_->NowMs());
    t.request.callback_url = url;
    ASSERT_TRUE(store_->Insert(t, {}).ok());
    ASSERT_TRUE(store_->RequestCancel(id, clock_->NowMs()).ok());
  }

  std::unique_ptr<CallbackDispatcher> MakeDispatcher(CallbackOptions options = {}) {
    PayloadRenderer render = [](const core::Task& task, const store::CallbackDelivery& d) -> Result<CallbackPayload> {
      return CallbackPayload{nlohmann::json{{"task", task.id}, {"event", d.event}}.dump(), task.id};
    };
    return std::make_unique<CallbackDispatcher>(*store_, *client_, render, clock_, metrics_, options);
  }

  testing::TempDir dir_;
  testing::TestPki pki_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<net::OutboundClient> client_;
  std::shared_ptr<Clock> clock_ = MakeSystemClock();
  MetricsRegistry metrics_;
};

TEST_F(DispatcherTest, RetriesAtOneThenTwoSecondsWithTheSameIdAndAVerifiableSignature) {
  LoopbackHttpServer receiver(
      [](const ReceivedRequest&, int index) { return ScriptedResponse(index < 2 ? 503 : 204); }, &pki_);
  FinishTaskWithCallback("t1", receiver.Url("/hook"));
  auto dispatcher = MakeDispatcher();
  dispatcher->Start();
  ASSERT_TRUE(receiver.WaitForRequests(3, 10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  dispatcher->Stop();

  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 3u) << "delivered on the third attempt, then nothing more";
  const int64_t gap1 = got[1].received_ms - got[0].received_ms;
  const int64_t gap2 = got[2].received_ms - got[1].received_ms;
  // Never early; late by at most less than the next step of the schedule (1, 2, 4 s), so the
  // test tells the schedule apart without timing the machine (under ASan on a loaded 2-core
  // runner an attempt arrived 0.8 s late).
  EXPECT_GE(gap1, 950);
  EXPECT_LT(gap1, 1950);
  EXPECT_GE(gap2, 1950);
  EXPECT_LT(gap2, 3950);

  const std::string secret = store_->GetAccount(store::kDefaultAccountId)->webhook_secret;
  for (const auto& r : got) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hook");
    EXPECT_EQ(r.headers.at("content-type"), "application/json");
    EXPECT_EQ(r.headers.at("webhook-id"), got[0].headers.at("webhook-id"));
    EXPECT_EQ(nlohmann::json::parse(r.body)["event"], "task.canceled");
    EXPECT_TRUE(VerifyStandardWebhook(secret, r.headers.at("webhook-id"), r.headers.at("webhook-timestamp"), r.body,
                                      r.headers.at("webhook-signature"), clock_->NowMs() / 1000));
    EXPECT_EQ(r.headers.at("x-webhook-signature"),
              KieSignature(secret, "t1", std::stoll(r.headers.at("x-webhook-timestamp"))));
  }
  auto deliveries = store_->ListCallbacks("t1");
  ASSERT_EQ(deliveries->size(), 1u);
  EXPECT_EQ(deliveries->front().state, store::DeliveryState::kDelivered);
  auto attempts = store_->ListCallbackAttempts(deliveries->front().id);
  ASSERT_EQ(attempts->size(), 3u);
  EXPECT_EQ(attempts->at(0).status_code, 503);
  EXPECT_EQ(attempts->at(0).error, "HTTP 503");
  EXPECT_EQ(attempts->at(2).status_code, 204);
  EXPECT_EQ(metrics_.Value("wanserve_callback_attempts_total", {{"outcome", "retry"}}), 2);
  EXPECT_EQ(metrics_.Value("wanserve_callback_attempts_total", {{"outcome", "delivered"}}), 1);
}

TEST_F(DispatcherTest, GivesUpAfterThreeRetriesAndLeavesTheTaskAsItWas) {
  LoopbackHttpServer receiver([](const ReceivedRequest&, int) { return ScriptedResponse(500); }, &pki_);
  FinishTaskWithCallback("t2", receiver.Url("/hook"));
  CallbackOptions fast;
  fast.retry_delays_ms = {50, 100, 200};
  auto dispatcher = MakeDispatcher(fast);
  dispatcher->Start();
  ASSERT_TRUE(receiver.WaitForRequests(4, 10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  dispatcher->Stop();
  EXPECT_EQ(receiver.Requests().size(), 4u);
  auto deliveries = store_->ListCallbacks("t2");
  EXPECT_EQ(deliveries->front().state, store::DeliveryState::kFailed);
  EXPECT_EQ(store_->ListCallbackAttempts(deliveries->front().id)->size(), 4u);
  EXPECT_EQ(store_->Get("t2")->state, core::TaskState::kCanceled);
}

TEST_F(DispatcherTest, RecordsUnreachableAndRefusedReceivers) {
  FinishTaskWithCallback("plain", "http://127.0.0.1:9/hook");      // not https
  FinishTaskWithCallback("internal", "https://10.0.0.1/hook");     // blocked address
  CallbackOptions once;
  once.retry_delays_ms = {};
  auto dispatcher = MakeDispatcher(once);
  dispatcher->Start();
  for (int i = 0; i < 100; ++i) {
    if (store_->ListCallbacks("plain")->front().state == store::DeliveryState::kFailed &&
        store_->ListCallbacks("internal")->front().state == store::DeliveryState::kFailed) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  dispatcher->Stop();
  auto error_of = [&](const std::string& task) {
    auto d = store_->ListCallbacks(task)->front();
    return store_->ListCallbackAttempts(d.id)->front().error;
  };
  EXPECT_TRUE(error_of("plain").starts_with("scheme_not_allowed")) << error_of("plain");
  EXPECT_TRUE(error_of("internal").starts_with("address_blocked")) << error_of("internal");
}

TEST_F(DispatcherTest, PastTheScheduleRetriesGoOnAtDoublingIntervalsWhileEnabled) {
  LoopbackHttpServer receiver([](const ReceivedRequest&, int index) { return ScriptedResponse(index < 4 ? 503 : 204); },
                              &pki_);
  FinishTaskWithCallback("late", receiver.Url("/hook"));
  CallbackOptions longer;
  longer.retry_delays_ms = {50, 100};
  longer.retry_for_ms = 60'000;
  auto dispatcher = MakeDispatcher(longer);
  dispatcher->Start();
  ASSERT_TRUE(receiver.WaitForRequests(5, 10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  dispatcher->Stop();
  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 5u) << "delivered on the fifth attempt, two past the schedule";
  // The schedule's 50 and 100 ms, then 200 and 400 ms: never early.
  EXPECT_GE(got[3].received_ms - got[2].received_ms, 190);
  EXPECT_GE(got[4].received_ms - got[3].received_ms, 390);
  EXPECT_EQ(store_->ListCallbacks("late")->front().state, store::DeliveryState::kDelivered);
}

TEST_F(DispatcherTest, RetriesPastTheScheduleEndWithinTheirWindowAndLeaveADeadLetter) {
  LoopbackHttpServer receiver([](const ReceivedRequest&, int) { return ScriptedResponse(500); }, &pki_);
  FinishTaskWithCallback("dead", receiver.Url("/hook"));
  CallbackOptions window;
  window.retry_delays_ms = {50, 100};
  // Attempts at 0, 50, 150, 350 and 750 ms (plus each attempt's own time); the next would be at
  // 1550 ms at the earliest, past the window.
  window.retry_for_ms = 1500;
  auto dispatcher = MakeDispatcher(window);
  dispatcher->Start();
  for (int i = 0; i < 100 && store_->ListCallbacks("dead")->front().state == store::DeliveryState::kPending; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  dispatcher->Stop();
  // Five when each attempt is quick; a slow machine (a sanitizer build) fits fewer in the
  // window, never more, and always at least one past the schedule.
  auto dead = store_->ListFailedCallbacks("", 10);
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->front().delivery.task_id, "dead");
  const auto got = receiver.Requests();
  EXPECT_EQ(got.size(), static_cast<size_t>(dead->front().delivery.attempts)) << "every attempt was sent";
  EXPECT_GE(got.size(), 4u);
  EXPECT_LE(got.size(), 5u) << "none scheduled past the window";
}

TEST_F(DispatcherTest, AnEndpointFailingTooLongIsDisabledItsDeliveriesWaitAsDeadLettersAndResendWorksOnceEnabled) {
  std::atomic<bool> healthy = false;
  LoopbackHttpServer receiver([&](const ReceivedRequest&, int) { return ScriptedResponse(healthy ? 204 : 500); },
                              &pki_);
  FinishTaskWithCallback("first", receiver.Url("/hook?task=first"));
  CallbackOptions strict;
  strict.retry_delays_ms = {100, 100, 100};
  // The fourth attempt is at least 300 ms after the first (a slow machine may get there
  // sooner; then the later attempts are not sent).
  strict.disable_endpoint_after_ms = 300;
  auto dispatcher = MakeDispatcher(strict);
  dispatcher->Start();
  ASSERT_TRUE(receiver.WaitForRequests(2, 10'000));
  const std::string endpoint = receiver.Url("/hook");
  std::optional<store::CallbackEndpoint> health;
  for (int i = 0; i < 250; ++i) {
    health = *store_->GetCallbackEndpoint(endpoint);
    if (health && health->disabled_ms > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(health && health->disabled_ms > 0) << "the query is not part of the endpoint";
  for (int i = 0; i < 100 && store_->ListCallbacks("first")->front().state == store::DeliveryState::kPending; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const size_t sent = receiver.Requests().size();
  EXPECT_TRUE(sent >= 2 && sent <= 4) << sent;
  EXPECT_EQ(health->consecutive_failures, static_cast<int>(sent));
  EXPECT_GE(health->disabled_ms - health->failing_since_ms, 300);
  EXPECT_EQ(health->last_error, "HTTP 500");
  EXPECT_EQ(store_->ListCallbacks("first")->front().state, store::DeliveryState::kFailed);

  // A task that finishes now is not sent to the disabled endpoint: a dead letter at once.
  FinishTaskWithCallback("second", receiver.Url("/hook?task=second"));
  dispatcher->Notify();
  for (int i = 0; i < 100 && store_->ListCallbacks("second")->front().state == store::DeliveryState::kPending; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto second = store_->ListCallbacks("second")->front();
  EXPECT_EQ(second.state, store::DeliveryState::kFailed);
  EXPECT_TRUE(store_->ListCallbackAttempts(second.id)->front().error.starts_with("endpoint_disabled"));
  EXPECT_EQ(receiver.Requests().size(), sent);
  EXPECT_EQ(metrics_.Value("wanserve_callback_endpoints_disabled_total"), 1);
  EXPECT_GE(metrics_.Value("wanserve_callback_attempts_total", {{"outcome", "endpoint_disabled"}}), 1);

  // The receiver is fixed; the operator enables the endpoint and resends the dead letters.
  healthy = true;
  ASSERT_TRUE(store_->EnableCallbackEndpoint(endpoint).ok());
  auto report = ResendDeadLetters(*store_, "", clock_->NowMs());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->resent.size(), 2u);
  EXPECT_FALSE(report->more);
  dispatcher->Notify();
  ASSERT_TRUE(receiver.WaitForRequests(sent + 2, 10'000));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  dispatcher->Stop();
  EXPECT_EQ(receiver.Requests().size(), sent + 2);
  EXPECT_TRUE(store_->ListFailedCallbacks("", 100)->empty());
  EXPECT_EQ(store_->ListCallbacks("second")->back().state, store::DeliveryState::kDelivered);
}

}  // namespace
}  // namespace wanserve::callbacks
