#include "tasks/leftover_sweeper.h"

#include <gtest/gtest.h>

#include <fstream>

#include "media/url_signer.h"
#include "net/outbound_client.h"
#include "media/local_blob_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/sample_task.h"
#include "testing/temp_dir.h"

namespace wanserve::tasks {
namespace {

TEST(LeftoverSweeper, RemovesStalePartialsAndInputFoldersOfTasksThatAreOverOrUnknown) {
  testing::TempDir dir;
  auto store = store::OpenSqliteStore({(dir.path() / "t.db").string()}).value();
  ASSERT_TRUE(store->Insert(testing::SampleTask("queued_task"), {}).ok());
  ASSERT_TRUE(store->Insert(testing::SampleTask("canceled_task"), {}).ok());
  ASSERT_TRUE(store->RequestCancel("canceled_task", 1).ok());

  media::LocalBlobStore blobs(dir.path() / "blobs");
  media::LocalBlobStore uploads(dir.path() / "uploads");
  net::OutboundClient client({});
  media::UrlSigner signer("secret");
  media::OwnLinks own({&blobs}, signer, "http://files.example", MakeSystemClock());
  const auto inputs_root = dir.path() / "inputs";
  media::InputFetcher inputs(client, own, inputs_root);

  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(7);
  for (const char* task : {"queued_task", "canceled_task", "unknown_task"}) {
    std::filesystem::create_directories(inputs_root / task);
    std::ofstream(inputs_root / task / "image_0.png") << "x";
    std::filesystem::last_write_time(inputs_root / task, old);
  }
  const auto partial = dir.path() / "uploads" / "tmp" / "0123456789abcdef0123456789abcdef.png.part";
  std::filesystem::create_directories(partial.parent_path());
  std::ofstream(partial) << "half";
  std::filesystem::last_write_time(partial, old);

  const LeftoverSweeper sweeper({&blobs, &uploads}, inputs, *store);
  const LeftoverSweeper::Swept swept = sweeper.SweepOnce();
  EXPECT_EQ(swept.partial_files, 1);
  EXPECT_EQ(swept.input_folders, 2);
  EXPECT_FALSE(std::filesystem::exists(partial));
  EXPECT_TRUE(std::filesystem::exists(inputs_root / "queued_task")) << "its task may still read it";
  EXPECT_FALSE(std::filesystem::exists(inputs_root / "canceled_task"));
  EXPECT_FALSE(std::filesystem::exists(inputs_root / "unknown_task"));
}

}  // namespace
}  // namespace wanserve::tasks
