// The UpstreamStore part of the store contract (instantiated with the rest of TaskStoreContract).
#include "store/task_store_contract.h"

namespace wanserve::store {
namespace {

// Inserts and claims a task as worker w1 at t=10 with a 100 ms lease.
LeaseToken ClaimedTask(Store& store, const std::string& id) {
  EXPECT_TRUE(store.Insert(testing::SampleTask(id), {}).ok());
  auto c = store.ClaimNext("w1", 10, 100);
  EXPECT_TRUE(c.ok() && c->has_value());
  return {id, "w1", 1};
}

TEST_P(TaskStoreContract, UpstreamSubmitIsTwoPhaseAndHandsTheTaskToThePoller) {
  const LeaseToken lease = ClaimedTask(*store_, "t1");
  ASSERT_TRUE(store_->BeginUpstreamSubmit(lease, "dashscope", 20).ok());
  auto again = store_->BeginUpstreamSubmit(lease, "dashscope", 21);
  ASSERT_FALSE(again.ok()) << "a task gets one upstream submit";
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  auto intent = store_->FindUpstreamJob("t1");
  ASSERT_TRUE(intent.ok() && intent->has_value());
  EXPECT_EQ((*intent)->state, UpstreamJobState::kSubmitting);

  ASSERT_TRUE(store_->RecordUpstreamSubmitted(lease, "up-1", 1000, 30).ok());
  auto task = store_->Get("t1");
  EXPECT_EQ(task->lease_owner, kUpstreamOwner);
  EXPECT_EQ(task->provider, "dashscope");
  auto recovered = store_->RecoverExpiredLeases(1'000'000'000, 3);
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->requeued, 0) << "an upstream task is not the worker's to lose";
  EXPECT_EQ(store_->Get("t1")->state, core::TaskState::kRunning);

  EXPECT_TRUE(store_->ClaimDuePolls(999, 5000, 10)->empty()) << "not due yet";
  auto due = store_->ClaimDuePolls(1000, 5000, 10);
  ASSERT_TRUE(due.ok());
  ASSERT_EQ(due->size(), 1u);
  const UpstreamJob polled = due->front();
  EXPECT_EQ(polled.upstream_id, "up-1");
  EXPECT_EQ(polled.provider, "dashscope");
  EXPECT_EQ(polled.polls, 1);
  EXPECT_EQ(polled.attempt, 1);
  EXPECT_EQ(polled.submitted_ms, 30);
  EXPECT_TRUE(store_->ClaimDuePolls(1001, 5000, 10)->empty()) << "a claimed poll is leased";

  UpstreamJob stale = polled;
  stale.polls = 0;
  EXPECT_EQ(store_->RecordPoll(stale, "RUNNING", "", 2000).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->RecordPoll(polled, "RUNNING", "", 2000).ok());
  auto next = store_->ClaimDuePolls(2000, 5000, 10);
  ASSERT_EQ(next->size(), 1u);
  ASSERT_TRUE(store_->RecordPoll(next->front(), "SUCCEEDED", R"({"duration":5})", 9000).ok());

  const LeaseToken poller{"t1", kUpstreamOwner, polled.attempt};
  ASSERT_TRUE(store_->Complete(poller, {}, 3000).ok());
  auto done = store_->FindUpstreamJob("t1");
  EXPECT_EQ((*done)->state, UpstreamJobState::kDone);
  EXPECT_EQ((*done)->usage_json, R"({"duration":5})");
  EXPECT_EQ((*done)->last_status, "SUCCEEDED");
  EXPECT_TRUE(store_->ClaimDuePolls(100'000, 5000, 10)->empty()) << "finished jobs are not polled";
}

TEST_P(TaskStoreContract, RefusedUpstreamSubmitIsForgottenAndALostLeaseCannotSubmit) {
  const LeaseToken lease = ClaimedTask(*store_, "t1");
  ASSERT_TRUE(store_->BeginUpstreamSubmit(lease, "dashscope", 20).ok());
  ASSERT_TRUE(store_->AbandonUpstreamSubmit(lease).ok());
  EXPECT_FALSE(store_->FindUpstreamJob("t1")->has_value());
  ASSERT_TRUE(store_->BeginUpstreamSubmit(lease, "dashscope", 25).ok()) << "another provider may be tried";

  const LeaseToken other{"t1", "w2", 1};
  EXPECT_EQ(store_->RecordUpstreamSubmitted(other, "up-1", 100, 30).error().code, ErrorCode::kConflict);
  EXPECT_EQ(store_->AbandonUpstreamSubmit(other).error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->RecoverExpiredLeases(1000, 3).ok());
  EXPECT_EQ(store_->Get("t1")->state, core::TaskState::kQueued) << "the worker died mid-submit";
  auto intent = store_->FindUpstreamJob("t1");
  ASSERT_TRUE(intent->has_value()) << "the next claim must see that a create may have been sent";
  EXPECT_EQ((*intent)->state, UpstreamJobState::kSubmitting);
}

TEST_P(TaskStoreContract, CancelingAnUpstreamTaskMakesItsPollDueNow) {
  const LeaseToken lease = ClaimedTask(*store_, "t1");
  ASSERT_TRUE(store_->BeginUpstreamSubmit(lease, "dashscope", 20).ok());
  ASSERT_TRUE(store_->RecordUpstreamSubmitted(lease, "up-1", 60'000, 30).ok());
  ASSERT_TRUE(store_->RequestCancel("t1", 40).ok());
  auto due = store_->ClaimDuePolls(40, 5000, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_TRUE(due->front().cancel_requested);
  ASSERT_TRUE(store_->FinishCanceled({"t1", kUpstreamOwner, 1}, 50).ok());
  EXPECT_EQ(store_->Get("t1")->state, core::TaskState::kCanceled);
}

}  // namespace
}  // namespace wanserve::store
