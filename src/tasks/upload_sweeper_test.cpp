#include "tasks/upload_sweeper.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "media/local_blob_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/task_store.h"
#include "testing/fake_clock.h"
#include "testing/temp_dir.h"

namespace wanserve::tasks {
namespace {

TEST(UploadSweeper, RemovesExpiredFilesAndKeepsLiveOnes) {
  testing::TempDir dir;
  auto opened = store::OpenSqliteStore({(dir.path() / "t.db").string()});
  ASSERT_TRUE(opened.ok());
  auto store = std::move(opened).value();
  media::LocalBlobStore uploads(dir.path() / "uploads");
  auto clock = std::make_shared<testing::FakeClock>();
  clock->Set(1'000'000);

  auto record = [&](const std::string& name, int64_t ttl_ms) {
    store::UploadedFile f;
    f.blob_id = uploads.NewId("png");
    f.id = f.blob_id;
    f.key_id = "k";
    f.api = "kie";
    f.path = "uploads";
    f.name = name;
    f.created_ms = clock->NowMs();
    f.expires_ms = f.created_ms + ttl_ms;
    EXPECT_TRUE(uploads.Write(f.blob_id, "bytes").ok());
    EXPECT_TRUE(store->InsertFile(f, clock->NowMs(), 0, true).ok());
    return *uploads.LocalFile(f.blob_id);
  };
  const auto short_lived = record("a.png", 1000);
  const auto long_lived = record("b.png", 10'000);

  UploadSweeper sweeper(*store, uploads, clock, 365LL * 24 * 3600 * 1000);
  auto swept = sweeper.SweepOnce();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 0);

  clock->Advance(1000);
  swept = sweeper.SweepOnce();
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 1);
  EXPECT_FALSE(std::filesystem::exists(short_lived));
  EXPECT_TRUE(std::filesystem::exists(long_lived));
  EXPECT_EQ(store->CountFiles("k", "kie", clock->NowMs()).value(), 1);
}

TEST(UploadSweeper, RemovesOrphanBlobsOlderThanTheLongestRetention) {
  testing::TempDir dir;
  auto store = store::OpenSqliteStore({(dir.path() / "t.db").string()}).value();
  media::LocalBlobStore uploads(dir.path() / "uploads");
  const std::string orphan = uploads.NewId("png");
  ASSERT_TRUE(uploads.Write(orphan, "bytes").ok());
  const auto path = *uploads.LocalFile(orphan);
  std::filesystem::last_write_time(path, std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  auto clock = std::make_shared<testing::FakeClock>();

  EXPECT_EQ(UploadSweeper(*store, uploads, clock, 3 * 3600 * 1000).SweepOnce().value(), 0);
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(UploadSweeper(*store, uploads, clock, 3600 * 1000).SweepOnce().value(), 1);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace wanserve::tasks
