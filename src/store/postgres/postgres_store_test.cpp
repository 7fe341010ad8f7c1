// The store contract on PostgreSQL, and what only a shared database adds: several stores (as
// several nodes would open them) claiming, submitting and migrating at once, and a database
// restart under a running store.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "store/postgres/pg_connection.h"
#include "store/postgres/postgres_store.h"
#include "store/task_store_contract.h"
#include "testing/postgres_cluster.h"

namespace wanserve::store {
namespace {

using testing::PostgresCluster;

std::unique_ptr<Store> OpenAt(const std::string& url) {
  auto s = OpenPostgresStore({url, 8});
  if (!s.ok()) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

std::unique_ptr<Store> MakePostgres() {
  PostgresCluster* cluster = PostgresCluster::Shared(nullptr);
  if (!cluster) return nullptr;
  return OpenAt(cluster->FreshSchemaUrl());
}

INSTANTIATE_TEST_SUITE_P(Postgres, TaskStoreContract, ::testing::Values(StoreFactory(MakePostgres)),
                         [](const auto&) { return std::string("postgres"); });
INSTANTIATE_TEST_SUITE_P(Postgres, LedgerContract, ::testing::Values(StoreFactory(MakePostgres)),
                         [](const auto&) { return std::string("postgres"); });

class PostgresNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    cluster_ = PostgresCluster::Shared(&why);
    if (!cluster_) GTEST_SKIP() << why;
    url_ = cluster_->FreshSchemaUrl();
  }
  PostgresCluster* cluster_ = nullptr;
  std::string url_;
};

TEST_F(PostgresNodes, ConnectionsNameThemselvesAndTheUrlHasTheLastWord) {
  PGconn* ours = postgres::Connect(url_);
  ASSERT_EQ(PQstatus(ours), CONNECTION_OK) << PQerrorMessage(ours);
  EXPECT_STREQ(PQparameterStatus(ours, "application_name"), "wanserve");
  PQfinish(ours);
  PGconn* named = postgres::Connect(url_ + "&application_name=node-7");
  ASSERT_EQ(PQstatus(named), CONNECTION_OK) << PQerrorMessage(named);
  EXPECT_STREQ(PQparameterStatus(named, "application_name"), "node-7");
  PQfinish(named);
}

TEST_F(PostgresNodes, NodesBootingTogetherMigrateOnce) {
  std::vector<std::thread> nodes;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i) {
    nodes.emplace_back([&] {
      auto s = OpenPostgresStore({url_, 2});
      if (s.ok() && (*s)->GetAccount(kDefaultAccountId).ok()) ++opened;
    });
  }
  for (auto& n : nodes) n.join();
  EXPECT_EQ(opened.load(), 6);
  auto store = OpenAt(url_);
  auto accounts = store->ListAccounts();
  ASSERT_TRUE(accounts.ok());
  EXPECT_EQ(accounts->size(), 1u);  // the default account, inserted by the one migration
}

TEST_F(PostgresNodes, WorkersOnSeveralNodesClaimEachTaskOnce) {
  constexpr int kTasks = 200;
  auto submitter = OpenAt(url_);
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_TRUE(submitter->Insert(testing::SampleTask("t" + std::to_string(i), i), {}).ok());
  }
  std::vector<std::unique_ptr<Store>> nodes;
  for (int n = 0; n < 3; ++n) nodes.push_back(OpenAt(url_));
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 9; ++w) {
    workers.emplace_back([&, w] {
      Store& node = *nodes[static_cast<size_t>(w % 3)];
      const std::string owner = "w" + std::to_string(w);
      for (;;) {
        auto t = node.ClaimNext(owner, 1000, 60'000);
        ASSERT_TRUE(t.ok()) << t.error().message;
        if (!*t) return;
        ASSERT_TRUE(node.Complete({(*t)->id, owner, (*t)->attempts}, {}, 2000).ok());
        std::lock_guard lock(mu);
        claimed.insert((*t)->id);
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kTasks));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), static_cast<size_t>(kTasks));
  auto counts = submitter->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[core::TaskState::kSucceeded], kTasks);
}

TEST_F(PostgresNodes, SubmitsOfOneAccountOnSeveralNodesNeverOverspend) {
  auto admin = OpenAt(url_);
  ASSERT_TRUE(admin->InsertAccount({"acct_a", "a", 0, false, 0, 0, 0, 0, "", ""}, {0, 0, 50, "start"}, 1).ok());
  std::vector<std::unique_ptr<Store>> nodes;
  for (int n = 0; n < 3; ++n) nodes.push_back(OpenAt(url_));
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 10; ++i) {
        core::Task t = testing::SampleTask("c" + std::to_string(c) + "_" + std::to_string(i), 10);
        t.account_id = "acct_a";
        auto r = nodes[static_cast<size_t>(c % 3)]->Insert(t, {"acct_a", 3, "", {}});
        if (r.ok()) {
          ++accepted;
        } else {
          EXPECT_EQ(r.error().code, ErrorCode::kInsufficientCredits) << r.error().message;
          ++refused;
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(accepted.load(), 16);  // 50 credits hold 16 tasks of 3
  EXPECT_EQ(refused.load(), 60 - 16);
  auto account = admin->GetAccount("acct_a");
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->permanent_balance, 2);
  auto problems = admin->CheckLedger();
  ASSERT_TRUE(problems.ok());
  EXPECT_TRUE(problems->empty());
}

TEST_F(PostgresNodes, ASubmitOnOneNodeWakesTheWorkersOfAnother) {
  auto worker_node = OpenAt(url_);
  auto api_node = OpenAt(url_);
  std::mutex mu;
  std::condition_variable cv;
  int wakes = 0;
  auto watch = worker_node->WatchQueue([&] {
    std::lock_guard lock(mu);
    ++wakes;
    cv.notify_all();
  });
  // The listener wakes once when it starts listening (for what it may have missed).
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return wakes >= 1; }));
  }
  const int before = wakes;
  ASSERT_TRUE(api_node->Insert(testing::SampleTask("wake"), {}).ok());
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return wakes > before; }));
}

TEST(PostgresRestart, AStoreOutlivesADatabaseRestart) {
  std::string why;
  auto own = PostgresCluster::StartPrivate(&why);
  if (!own) GTEST_SKIP() << why;
  auto store = OpenAt(own->FreshSchemaUrl());
  ASSERT_TRUE(store->Insert(testing::SampleTask("before"), {}).ok());
  own->RestartImmediate();
  // The pooled connection died with the server: the first use reports it as retryable, and
  // the pool connects afresh for the next.
  Result<core::Task> first = store->Get("before");
  if (!first.ok()) {
    EXPECT_EQ(first.error().code, ErrorCode::kUnavailable) << first.error().message;
  }
  auto again = store->Get("before");
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(store->Insert(testing::SampleTask("after"), {}).ok());
}

}  // namespace
}  // namespace wanserve::store
