#pragma once
// The contract every TaskStore/KeyStore backend must satisfy. A backend's test instantiates
// the suite with a factory (see sqlite/sqlite_store_test.cpp).
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "store/task_store.h"
#include "testing/sample_task.h"

namespace wanserve::store {

using StoreFactory = std::function<std::unique_ptr<Store>()>;

class TaskStoreContract : public ::testing::TestWithParam<StoreFactory> {
 protected:
  // A factory returns nullptr when its backend cannot run here (no PostgreSQL server): skipped.
  void SetUp() override {
    store_ = GetParam()();
    if (!store_) GTEST_SKIP() << "this backend's database server is not installed";
  }
  std::unique_ptr<Store> store_;
};

class LedgerContract : public TaskStoreContract {
 protected:
  void SetUp() override {
    TaskStoreContract::SetUp();
    if (IsSkipped()) return;
    ASSERT_TRUE(store_->InsertAccount({"acct_a", "a", 0, false, 0, 0, 0, 0, "", ""}, {}, 1).ok());
  }
  void Expect(int64_t sub, int64_t perm) {
    auto a = store_->GetAccount("acct_a");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->subscription_balance, sub);
    EXPECT_EQ(a->permanent_balance, perm);
    auto problems = store_->CheckLedger();
    ASSERT_TRUE(problems.ok()) << problems.error().message;
    for (const auto& p : *problems) ADD_FAILURE() << p.account_id << " " << p.task_id << ": " << p.what;
  }
  core::Task Paid(const std::string& id) {
    core::Task t = testing::SampleTask(id);
    t.account_id = "acct_a";
    return t;
  }
};

}  // namespace wanserve::store
