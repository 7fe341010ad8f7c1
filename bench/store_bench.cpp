// The task store under the scale-out issue's loads, SQLite beside PostgreSQL in one run:
//  1. claim -> complete of paid tasks (hold at submit, capture and a callback outbox row at
//     completion), 8 worker threads on one store;
//  2. the latency of one claim once many finished tasks lie in the table;
//  3. idle pickup: a submit on one store (node) until a worker on another has claimed it, woken
//     by the database's notification (PostgreSQL; SQLite serves one process).
// A benchmark, not a test: it prints figures and ratios (targets in docs/performance.md).
//
//   build/bench/store_bench [tasks, default 4000] [finished rows for 2., default 20000]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/postgres_cluster.h"
#include "testing/sample_task.h"
#include "testing/temp_dir.h"

namespace wanserve {
namespace {

using Steady = std::chrono::steady_clock;
using store::Store;

double Seconds(Steady::time_point since) { return std::chrono::duration<double>(Steady::now() - since).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.error().message.c_str());
    std::exit(1);
  }
}

// An account that pays for every task and has a webhook, so completions write the ledger and
// the outbox as in production.
void Fund(Store& s) {
  Check(s.InsertAccount({"acct_bench", "bench", 0, false, 0, 0, 0, 0, "https://hooks.example/x", ""},
                        {0, 0, 1'000'000'000'000, "bench"}, 1),
        "account");
}

void Insert(Store& s, const core::Task& t) {
  auto r = s.Insert(t, {"acct_bench", 20, "", {}});
  if (!r.ok()) Check(r.error(), "insert");
}

core::Task PaidTask(const std::string& id, int64_t created_ms) {
  core::Task t = testing::SampleTask(id, created_ms);
  t.account_id = "acct_bench";
  return t;
}

// Submits `tasks` paid tasks, then 8 threads claim and complete until the queue is empty.
// Returns completed tasks per second of the claim/complete phase.
double ClaimComplete(Store& s, int tasks, const std::string& prefix) {
  for (int i = 0; i < tasks; ++i) {
    Insert(s, PaidTask(prefix + std::to_string(i), 1000 + i));
  }
  std::atomic<int> done{0};
  const auto start = Steady::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&, w] {
      const std::string owner = "w" + std::to_string(w);
      for (;;) {
        auto t = s.ClaimNext(owner, 5000, 60'000);
        if (!t.ok()) Check(t.error(), "claim");
        if (!*t) return;
        Check(s.Complete({(*t)->id, owner, (*t)->attempts}, {}, 6000), "complete");
        ++done;
      }
    });
  }
  for (auto& w : workers) w.join();
  return done.load() / Seconds(start);
}

// Fills the table with `finished` completed tasks, then times single claims of fresh tasks.
std::pair<double, double> ClaimLatencyMs(Store& s, int finished) {
  ClaimComplete(s, finished, "old");
  std::vector<double> ms;
  for (int i = 0; i < 500; ++i) {
    Insert(s, PaidTask("probe" + std::to_string(i), 9'000'000 + i));
    const auto start = Steady::now();
    auto t = s.ClaimNext("probe", 9'500'000, 60'000);
    ms.push_back(Seconds(start) * 1000);
    if (!t.ok() || !*t) Check(t.ok() ? MakeError(ErrorCode::kInternal, "nothing claimed") : t.error(), "claim");
    Check(s.Complete({(*t)->id, "probe", (*t)->attempts}, {}, 9'600'000), "complete");
  }
  return {Percentile(ms, 0.5), Percentile(ms, 0.99)};
}

// A worker on `worker_node` sleeps until woken (by the notification, or a 500 ms poll as the
// worker pool does) and claims; the submit happens on `api_node`. Milliseconds from the
// submit's return to the claim.
std::pair<double, double> PickupMs(Store& api_node, Store& worker_node) {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t wakes = 0;
  auto watch = worker_node.WatchQueue([&] {
    std::lock_guard lock(mu);
    ++wakes;
    cv.notify_all();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the listener connects
  std::vector<double> ms;
  for (int i = 0; i < 200; ++i) {
    uint64_t seen;
    {
      std::lock_guard lock(mu);
      seen = wakes;
    }
    Insert(api_node, PaidTask("pick" + std::to_string(i), 20'000'000 + i));
    const auto submitted = Steady::now();
    for (;;) {
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return wakes != seen; });
        seen = wakes;
      }
      auto t = worker_node.ClaimNext("picker", 20'500'000, 60'000);
      if (t.ok() && *t) {
        ms.push_back(Seconds(submitted) * 1000);
        Check(worker_node.Complete({(*t)->id, "picker", (*t)->attempts}, {}, 20'600'000), "complete");
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return {Percentile(ms, 0.5), Percentile(ms, 0.99)};
}

}  // namespace
}  // namespace wanserve

int main(int argc, char** argv) {
  using namespace wanserve;
  const int tasks = argc > 1 ? std::atoi(argv[1]) : 4000;
  const int finished = argc > 2 ? std::atoi(argv[2]) : 20000;
  std::string why;
  auto cluster = testing::PostgresCluster::StartPrivate(&why);
  if (!cluster) {
    std::fprintf(stderr, "%s\n", why.c_str());
    return 1;
  }
  testing::TempDir dir;
  auto open_sqlite = [&](const std::string& name) {
    auto s = store::OpenSqliteStore({(dir.path() / name).string()});
    Check(s.ok() ? Status::Ok() : Status(s.error()), "sqlite");
    return std::move(s).value();
  };
  auto open_pg = [&](const std::string& url) {
    auto s = store::OpenPostgresStore({url, 16});
    Check(s.ok() ? Status::Ok() : Status(s.error()), "postgres");
    return std::move(s).value();
  };
  std::printf("%u cores; SQLite: WAL, synchronous=NORMAL; PostgreSQL 15: local socket, fsync=off "
              "(the tests' server), synchronous_commit=on\n",
              std::thread::hardware_concurrency());

  auto sqlite = open_sqlite("a.db");
  const std::string pg_url = cluster->FreshSchemaUrl();
  auto pg = open_pg(pg_url);
  Fund(*sqlite);
  Fund(*pg);
  const double sqlite_rate = ClaimComplete(*sqlite, tasks, "t");
  const double pg_rate = ClaimComplete(*pg, tasks, "t");
  std::printf("1. claim->complete, 8 threads, %d paid tasks with callbacks: SQLite %.0f/s, PostgreSQL %.0f/s "
              "(PostgreSQL/SQLite %.2f; target >= 1000/s)\n",
              tasks, sqlite_rate, pg_rate, pg_rate / sqlite_rate);

  const auto [sqlite_p50, sqlite_p99] = ClaimLatencyMs(*sqlite, finished);
  const auto [pg_p50, pg_p99] = ClaimLatencyMs(*pg, finished);
  std::printf("2. one claim with %d finished tasks in the table: SQLite p50 %.2f ms p99 %.2f ms; "
              "PostgreSQL p50 %.2f ms p99 %.2f ms (target p99 <= 5 ms)\n",
              finished + tasks, sqlite_p50, sqlite_p99, pg_p50, pg_p99);

  auto worker_node = open_pg(pg_url);
  const auto [pick_p50, pick_p99] = PickupMs(*pg, *worker_node);
  std::printf("3. idle pickup across nodes (submit on one store, claim on another, NOTIFY): p50 %.1f ms, "
              "p99 %.1f ms (target p50 <= 50 ms, p99 <= 250 ms)\n",
              pick_p50, pick_p99);
  return 0;
}
