#include "tasks/worker_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "media/probe.h"
#include "media/local_blob_store.h"
#include "store/sqlite/sqlite_store.h"
#include "tasks/output_sweeper.h"
#include "tasks/task_service.h"
#include "testing/fake_clock.h"
#include "testing/forwarding_store.h"
#include "testing/temp_dir.h"

namespace wanserve::tasks {
namespace {

using core::TaskState;

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore({(dir_.path() / "t.db").string()});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    blobs_ = std::make_unique<media::LocalBlobStore>(dir_.path() / "blobs");
    writer_ = std::make_unique<OutputWriter>(*blobs_);
    registry_ = MakeRegistry(0, 4);
  }

  // Each pool gets its own registry; they live as long as the test, as the services using them.
  providers::ProviderRegistry* MakeRegistry(int step_delay_ms, int steps) {
    auto& registry = registries_.emplace_back(std::make_unique<providers::ProviderRegistry>());
    registry->Add(providers::MakeTestPatternProvider({.enabled = true, .steps = steps, .step_delay_ms = step_delay_ms}));
    registry->Route("wan2.7-t2v", {"testpattern"});
    registry->Route("wan2.7-image", {"testpattern"});
    return registry.get();
  }

  std::unique_ptr<WorkerPool> MakePool(int step_delay_ms, int steps = 4, bool claim_only_served = false) {
    registry_ = MakeRegistry(step_delay_ms, steps);
    WorkerOptions o;
    o.claim_only_served = claim_only_served;
    o.poll_ms = 20;
    o.renew_every_ms = 20;
    o.recovery_every_ms = 50;
    o.progress_every_ms = 0;
    return std::make_unique<WorkerPool>(*store_, *registry_, *writer_, clock_, metrics_, o);
  }

  core::GenerationRequest Video() {
    core::GenerationRequest r;
    r.kind = core::RequestKind::kTextToVideo;
    r.model = "wan2.7-t2v";
    r.prompt = "a boat";
    r.width = 96;
    r.height = 64;
    r.duration_s = 2;
    r.fps = 8;
    return r;
  }

  core::Task WaitFor(const std::string& id, std::function<bool(const core::Task&)> done, int timeout_ms = 20000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      auto t = store_->Get(id);
      if (t.ok() && done(*t)) return *t;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "timed out waiting for " << id;
        return t.ok() ? *t : core::Task{};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<media::LocalBlobStore> blobs_;
  std::unique_ptr<OutputWriter> writer_;
  std::vector<std::unique_ptr<providers::ProviderRegistry>> registries_;
  providers::ProviderRegistry* registry_ = nullptr;
  std::shared_ptr<Clock> clock_ = MakeSystemClock();
  MetricsRegistry metrics_;
};

TEST_F(WorkerPoolTest, RunsATaskToAPlayableVideo) {
  auto pool = MakePool(0);
  TaskService service(*store_, *registry_, clock_, [&] { pool->Notify(); });
  pool->Start();
  auto t = service.Submit({"t1", "unified", "k", store::kDefaultAccountId, "wan2.7-text-to-video", "{}", Video()});
  ASSERT_TRUE(t.ok());
  auto done = WaitFor("t1", [](const core::Task& t) { return core::IsTerminal(t.state); });
  ASSERT_EQ(done.state, TaskState::kSucceeded) << (done.error ? done.error->message : "");
  EXPECT_EQ(done.progress, 100);
  ASSERT_EQ(done.outputs.size(), 1u);
  auto info = media::ProbeVideoFile(blobs_->LocalFile(done.outputs[0].blob_id)->string());
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->width, 96);
  EXPECT_EQ(info->height, 64);
  EXPECT_EQ(info->frames, 16);
  EXPECT_TRUE(info->has_audio);
  EXPECT_EQ(metrics_.Value("wanserve_tasks_finished_total", {{"state", "succeeded"}}), 1);
}

TEST_F(WorkerPoolTest, FinishingATaskIsNotALostLeaseButLosingOneIs) {
  // The keeper renews every millisecond, so its list of runs is often taken just before a
  // task ends; a renewal refused for that is no loss.
  registry_ = MakeRegistry(0, 1);
  WorkerOptions options;
  options.poll_ms = 5;
  options.renew_every_ms = 1;
  options.recovery_every_ms = 60'000;
  auto pool = std::make_unique<WorkerPool>(*store_, *registry_, *writer_, clock_, metrics_, options);
  TaskService service(*store_, *registry_, clock_, [&] { pool->Notify(); });
  pool->Start();
  for (int i = 0; i < 30; ++i) {
    const std::string id = "quick" + std::to_string(i);
    ASSERT_TRUE(service.Submit({id, "unified", "k", store::kDefaultAccountId, "m", "{}", Video()}).ok());
    EXPECT_EQ(WaitFor(id, [](const core::Task& t) { return core::IsTerminal(t.state); }).state, TaskState::kSucceeded);
  }
  EXPECT_EQ(metrics_.Value("wanserve_leases_lost_total", {}), 0);
  pool->Stop();

  // A real loss: the task's lease is taken away (a sweep that judged it expired) mid-run.
  registry_ = MakeRegistry(50, 100);
  options.renew_every_ms = 20;
  pool = std::make_unique<WorkerPool>(*store_, *registry_, *writer_, clock_, metrics_, options);
  TaskService slow_service(*store_, *registry_, clock_, [&] { pool->Notify(); });
  pool->Start();
  ASSERT_TRUE(slow_service.Submit({"slow", "unified", "k", store::kDefaultAccountId, "m", "{}", Video()}).ok());
  WaitFor("slow", [](const core::Task& t) { return t.state == TaskState::kRunning && t.progress > 0; });
  ASSERT_TRUE(store_->RecoverExpiredLeases(clock_->NowMs() + 3'600'000, 3).ok());
  for (int i = 0; i < 300 && metrics_.Value("wanserve_leases_lost_total", {}) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(metrics_.Value("wanserve_leases_lost_total", {}), 1);
}

// The database commits a completion, then the connection drops before the answer arrives (a
// failover mid-commit), and stays away for a few calls.
class LosesTheFirstCompletionsAnswer final : public testing::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status Complete(const store::LeaseToken& lease, const std::vector<core::Output>& outputs, int64_t now_ms) override {
    if (calls_++ == 0) {
      RETURN_IF_ERROR(inner_.Complete(lease, outputs, now_ms));
      return MakeError(ErrorCode::kUnavailable, "server closed the connection unexpectedly");
    }
    if (calls_ <= 3) return MakeError(ErrorCode::kUnavailable, "connection refused");
    return inner_.Complete(lease, outputs, now_ms);
  }
  int calls() const { return calls_; }

 private:
  std::atomic<int> calls_{0};
};

TEST_F(WorkerPoolTest, ACompletionWhoseAnswerWasLostIsRecognisedAndItsOutputsKept) {
  LosesTheFirstCompletionsAnswer flaky(*store_);
  WorkerOptions options;
  options.poll_ms = 20;
  WorkerPool pool(flaky, *registry_, *writer_, clock_, metrics_, options);
  TaskService service(flaky, *registry_, clock_, [&] { pool.Notify(); });
  pool.Start();
  ASSERT_TRUE(service.Submit({"t1", "unified", "k", store::kDefaultAccountId, "m", "{}", Video()}).ok());
  auto done = WaitFor("t1", [](const core::Task& t) { return core::IsTerminal(t.state); });
  ASSERT_EQ(done.state, TaskState::kSucceeded);
  ASSERT_EQ(done.outputs.size(), 1u);
  // Counted as succeeded once the retries found the task ended with these outputs...
  for (int i = 0; i < 200 && metrics_.Value("wanserve_tasks_finished_total", {{"state", "succeeded"}}) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(metrics_.Value("wanserve_tasks_finished_total", {{"state", "succeeded"}}), 1);
  EXPECT_GE(flaky.calls(), 4) << "retried while the store was away";
  // ...and the outputs the task names are still there, not discarded as an unrecorded attempt's.
  auto path = blobs_->LocalFile(done.outputs[0].blob_id);
  ASSERT_TRUE(path);
  EXPECT_TRUE(std::filesystem::exists(*path));
}

TEST_F(WorkerPoolTest, CancelWhileRunningStopsAtTheNextStep) {
  auto pool = MakePool(100, 50);
  TaskService service(*store_, *registry_, clock_, [&] { pool->Notify(); });
  pool->Start();
  ASSERT_TRUE(service.Submit({"t1", "unified", "k", store::kDefaultAccountId, "m", "{}", Video()}).ok());
  WaitFor("t1", [](const core::Task& t) { return t.state == TaskState::kRunning && t.progress > 0; });
  auto c = service.Cancel("t1", "k");
  ASSERT_TRUE(c.ok());
  auto done = WaitFor("t1", [](const core::Task& t) { return core::IsTerminal(t.state); }, 5000);
  EXPECT_EQ(done.state, TaskState::kCanceled);
  EXPECT_TRUE(done.outputs.empty());
}

TEST_F(WorkerPoolTest, StopHandsRunningTasksBackAndANewPoolFinishesThem) {
  auto pool = MakePool(50, 100);
  TaskService service(*store_, *registry_, clock_, [&] { pool->Notify(); });
  pool->Start();
  ASSERT_TRUE(service.Submit({"t1", "unified", "k", store::kDefaultAccountId, "m", "{}", Video()}).ok());
  WaitFor("t1", [](const core::Task& t) { return t.state == TaskState::kRunning; });
  pool->Stop();
  auto t = store_->Get("t1");
  EXPECT_EQ(t->state, TaskState::kQueued);
  EXPECT_EQ(t->attempts, 0) << "a graceful stop does not spend an attempt";
  auto second = MakePool(0);
  second->Start();
  auto done = WaitFor("t1", [](const core::Task& t) { return core::IsTerminal(t.state); });
  EXPECT_EQ(done.state, TaskState::kSucceeded);
  EXPECT_EQ(done.attempts, 1);
}

TEST_F(WorkerPoolTest, AModelNoProviderMakesIsRefusedAtSubmitAndNothingIsStored) {
  TaskService service(*store_, *registry_, clock_);
  auto r = Video();
  r.model = "wan2.7-videoedit";
  auto refused = service.Submit({"t1", "unified", "k", store::kDefaultAccountId, "m", "{}", r});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnsupportedModel);
  EXPECT_NE(refused.error().message.find("wan2.7-videoedit"), std::string::npos) << refused.error().message;
  EXPECT_EQ(store_->Get("t1").error().code, ErrorCode::kNotFound);
}

TEST_F(WorkerPoolTest, AQueuedTaskWhoseRouteIsGoneFailsWithAClearError) {
  auto pool = MakePool(0);
  pool->Start();
  core::Task t;
  t.id = "t1";
  t.dialect = "unified";
  t.key_id = "k";
  t.request = Video();
  t.request.model = "wan2.7-videoedit";  // accepted by an earlier configuration
  ASSERT_TRUE(store_->Insert(t, {store::kDefaultAccountId, 0, "k"}).ok());
  pool->Notify();
  auto done = WaitFor("t1", [](const core::Task& t) { return core::IsTerminal(t.state); });
  EXPECT_EQ(done.state, TaskState::kFailed);
  ASSERT_TRUE(done.error.has_value());
  EXPECT_EQ(done.error->code, ErrorCode::kUnavailable);
  EXPECT_NE(done.error->message.find("wan2.7-videoedit"), std::string::npos);
}

TEST_F(WorkerPoolTest, OnASharedStoreATaskNoProviderHereServesIsLeftForAnotherNode) {
  auto pool = MakePool(0, 4, /*claim_only_served=*/true);
  pool->Start();
  core::Task other;
  other.id = "other";
  other.dialect = "unified";
  other.key_id = "k";
  other.request = Video();
  other.request.model = "wan2.7-videoedit";  // served by another node's providers
  ASSERT_TRUE(store_->Insert(other, {store::kDefaultAccountId, 0, "k"}).ok());
  core::Task mine = other;
  mine.id = "mine";
  mine.created_ms = other.created_ms + 1;
  mine.request = Video();
  ASSERT_TRUE(store_->Insert(mine, {store::kDefaultAccountId, 0, "k"}).ok());
  pool->Notify();
  EXPECT_EQ(WaitFor("mine", [](const core::Task& t) { return core::IsTerminal(t.state); }).state,
            TaskState::kSucceeded);
  auto left = store_->Get("other");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->state, TaskState::kQueued);
}

// Runs nothing: fails every task with `code`, as a local engine that would not load does.
class BrokenProvider final : public providers::Provider {
 public:
  explicit BrokenProvider(ErrorCode code) : code_(code) {}
  std::string_view Name() const override { return "broken"; }
  Status Serves(const core::GenerationRequest&) const override { return Status::Ok(); }
  std::vector<providers::Capability> Capabilities(std::string_view) const override { return {}; }
  Result<core::GeneratedMedia> Run(const core::GenerationRequest&, const media::PreparedInputs&,
                                   const providers::ProgressFn&, const providers::CancelFn&) override {
    return MakeError(code_, "broken: " + std::string(ToString(code_)));
  }

 private:
  ErrorCode code_;
};

TEST_F(WorkerPoolTest, ALocalProvidersOwnFaultHandsTheTaskToTheNextButARequestFaultDoesNot) {
  for (ErrorCode code : {ErrorCode::kUnavailable, ErrorCode::kInvalidInput}) {
    SCOPED_TRACE(std::string(ToString(code)));
    auto registry = std::make_unique<providers::ProviderRegistry>();
    registry->Add(std::make_unique<BrokenProvider>(code));
    registry->Add(providers::MakeTestPatternProvider({.enabled = true, .steps = 1, .step_delay_ms = 0}));
    registry->Route("*", {"broken", "testpattern"});
    WorkerOptions o;
    o.poll_ms = 20;
    auto pool = std::make_unique<WorkerPool>(*store_, *registry, *writer_, clock_, metrics_, o);
    TaskService service(*store_, *registry, clock_, [&] { pool->Notify(); });
    pool->Start();
    const std::string id = "t-" + std::string(ToString(code));
    ASSERT_TRUE(service.Submit({id, "unified", "k", store::kDefaultAccountId, "m", "{}", Video()}).ok());
    auto done = WaitFor(id, [](const core::Task& t) { return core::IsTerminal(t.state); });
    if (code == ErrorCode::kUnavailable) {
      EXPECT_EQ(done.state, TaskState::kSucceeded) << (done.error ? done.error->message : "");
      EXPECT_EQ(done.provider, "testpattern");
    } else {
      EXPECT_EQ(done.state, TaskState::kFailed) << "the request's own fault is not another provider's to try";
    }
    pool->Stop();
  }
}

TEST_F(WorkerPoolTest, OtherKeysSeeNotFound) {
  TaskService service(*store_, *registry_, clock_);
  ASSERT_TRUE(service.Submit({"t1", "unified", "owner", store::kDefaultAccountId, "m", "{}", Video()}).ok());
  EXPECT_TRUE(service.Get("t1", "owner").ok());
  EXPECT_EQ(service.Get("t1", "intruder").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(service.Cancel("t1", "intruder").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->Get("t1")->state, TaskState::kQueued);
}

TEST_F(WorkerPoolTest, SweeperDeletesOutputsAfterTheirLinksExpire) {
  auto clock = std::make_shared<testing::FakeClock>();
  TaskService service(*store_, *registry_, clock);
  auto r = Video();
  r.kind = core::RequestKind::kTextToImage;
  r.model = "wan2.7-image";
  ASSERT_TRUE(service.Submit({"t1", "unified", "k", store::kDefaultAccountId, "m", "{}", r}).ok());
  auto claimed = store_->ClaimNext("w", clock->NowMs(), 1000);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  core::GeneratedMedia media;
  media.images.push_back({8, 8, std::vector<uint8_t>(8 * 8 * 3, 100)});
  auto outputs = writer_->Write("t1", 1, media);
  ASSERT_TRUE(outputs.ok());
  ASSERT_TRUE(store_->Complete({"t1", "w", 1}, *outputs, clock->NowMs()).ok());
  const auto path = *blobs_->LocalFile((*outputs)[0].blob_id);
  OutputSweeper sweeper(*store_, *blobs_, clock, 24 * 3600 * 1000);
  EXPECT_EQ(*sweeper.SweepOnce(), 0);
  EXPECT_TRUE(std::filesystem::exists(path));
  clock->Advance(24 * 3600 * 1000 + 1);
  EXPECT_EQ(*sweeper.SweepOnce(), 1);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(store_->Get("t1")->outputs_expired);
}

TEST_F(WorkerPoolTest, FilesOfAnAttemptThatDiedAreSweptWhenTheNextAttemptEnds) {
  TaskService service(*store_, *registry_, clock_);
  auto r = Video();
  r.kind = core::RequestKind::kTextToImage;
  r.model = "wan2.7-image";
  ASSERT_TRUE(service.Submit({"t1", "unified", "k", store::kDefaultAccountId, "m", "{}", r}).ok());
  // Attempt 1 stores its file, then its process dies before it records the task.
  auto claimed = store_->ClaimNext("dead", clock_->NowMs(), 1);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  core::GeneratedMedia media;
  media.images.push_back({8, 8, std::vector<uint8_t>(8 * 8 * 3, 100)});
  auto lost = writer_->Write("t1", 1, media);
  ASSERT_TRUE(lost.ok());
  const auto lost_file = *blobs_->LocalFile((*lost)[0].blob_id);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));

  auto pool = MakePool(0);
  pool->Start();
  auto done = WaitFor("t1", [](const core::Task& t) { return core::IsTerminal(t.state); });
  ASSERT_EQ(done.state, TaskState::kSucceeded);
  EXPECT_EQ(done.attempts, 2);
  ASSERT_EQ(done.outputs.size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(*blobs_->LocalFile(done.outputs[0].blob_id)));
  // The worker sweeps right after it records the task, so the sweep may still be under way.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::exists(lost_file) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(std::filesystem::exists(lost_file)) << "the dead attempt's file is nobody's";
  auto left = blobs_->List(media::BlobStore::TaskPrefix("t1"), "", 10);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->size(), 1u);
}

TEST_F(WorkerPoolTest, ReconciliationDeletesFilesNoTaskRecordsAndKeepsTheRunningAttempts) {
  auto clock = std::make_shared<testing::FakeClock>();
  clock->Set(1'000'000);
  TaskService service(*store_, *registry_, clock);
  auto r = Video();
  r.kind = core::RequestKind::kTextToImage;
  r.model = "wan2.7-image";
  core::GeneratedMedia media;
  media.images.push_back({8, 8, std::vector<uint8_t>(8 * 8 * 3, 100)});
  auto store_file = [&](const std::string& task, int attempt) {
    auto written = writer_->Write(task, attempt, media);
    EXPECT_TRUE(written.ok());
    return *written;
  };
  // done: finished by attempt 2; attempt 1's file and a late file of attempt 2 that the task does not record.
  ASSERT_TRUE(service.Submit({"done", "unified", "k", store::kDefaultAccountId, "m", "{}", r}).ok());
  ASSERT_TRUE(store_->ClaimNext("w", clock->NowMs(), 10).ok());
  const auto done_lost = store_file("done", 1);
  ASSERT_TRUE(store_->RecoverExpiredLeases(clock->NowMs() + 20, 3).ok());
  ASSERT_TRUE(store_->ClaimNext("w", clock->NowMs(), 1000).ok());
  const auto done_kept = store_file("done", 2);
  ASSERT_TRUE(store_->Complete({"done", "w", 2}, done_kept, clock->NowMs()).ok());
  const auto done_late = store_file("done", 2);
  // running: attempt 2 under way, attempt 1's file left over.
  ASSERT_TRUE(service.Submit({"running", "unified", "k", store::kDefaultAccountId, "m", "{}", r}).ok());
  ASSERT_TRUE(store_->ClaimNext("w", clock->NowMs(), 10).ok());
  const auto running_lost = store_file("running", 1);
  ASSERT_TRUE(store_->RecoverExpiredLeases(clock->NowMs() + 20, 3).ok());
  ASSERT_TRUE(store_->ClaimNext("w", clock->NowMs(), 100000).ok());
  const auto running_now = store_file("running", 2);
  // A task that does not exist (deleted, or another deployment's): its file goes once old.
  const auto unknown = store_file("unknown_task", 1);

  OutputSweeper sweeper(*store_, *blobs_, clock, 24 * 3600 * 1000);
  auto exists = [&](const std::vector<core::Output>& o) { return blobs_->Stat(o[0].blob_id).ok(); };
  EXPECT_EQ(sweeper.ReconcileOnce(3600 * 1000).value(), 3);
  EXPECT_FALSE(exists(done_lost));
  EXPECT_TRUE(exists(done_kept));
  EXPECT_FALSE(exists(done_late));
  EXPECT_FALSE(exists(running_lost));
  EXPECT_TRUE(exists(running_now)) << "the running attempt may still record it";
  EXPECT_TRUE(exists(unknown)) << "younger than the grace";
  EXPECT_EQ(sweeper.ReconcileOnce(0).value(), 1);
  EXPECT_FALSE(exists(unknown));
  EXPECT_TRUE(exists(done_kept));
  EXPECT_TRUE(exists(running_now));
}

}  // namespace
}  // namespace wanserve::tasks
