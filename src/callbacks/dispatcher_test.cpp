#include "callbacks/dispatcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

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
    o.allow_networks = *net::ParseCidrList("127.0.0.1/32");
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

}  // namespace
}  // namespace wanserve::callbacks
