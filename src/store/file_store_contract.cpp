// The FileStore part of the store contract (instantiated with the rest of TaskStoreContract).
#include "store/task_store_contract.h"

namespace wanserve::store {
namespace {

UploadedFile File(const std::string& id, const std::string& key, const std::string& name, int64_t created_ms,
                  int64_t expires_ms, const std::string& api = "evolink") {
  return {id, key, api, "uploads", name, name, "blob-" + id + ".png", "image/png", 100, "", created_ms, expires_ms};
}

TEST_P(TaskStoreContract, FilesAreListedNewestFirstCountedAndDeletedByTheirOwnerOnly) {
  ASSERT_TRUE(store_->InsertFile(File("f1", "k1", "a.png", 10, 1000), 10, 0, true).ok());
  ASSERT_TRUE(store_->InsertFile(File("f2", "k1", "b.png", 20, 1000), 20, 0, true).ok());
  ASSERT_TRUE(store_->InsertFile(File("f3", "k2", "c.png", 30, 1000), 30, 0, true).ok());
  ASSERT_TRUE(store_->InsertFile(File("f4", "k1", "d.png", 40, 1000, "kie"), 40, 0, true).ok());
  auto listed = store_->ListFiles("k1", "evolink", 50, 0, 10);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0], File("f2", "k1", "b.png", 20, 1000));
  EXPECT_EQ((*listed)[1].id, "f1");
  EXPECT_EQ(store_->ListFiles("k1", "evolink", 50, 1, 10)->size(), 1u) << "offset";
  EXPECT_EQ(store_->CountFiles("k1", "evolink", 50).value(), 2);
  EXPECT_EQ(store_->GetFile("f3", 50)->key_id, "k2");

  auto theirs = store_->DeleteFile("f3", "k1", 50);
  ASSERT_FALSE(theirs.ok());
  EXPECT_EQ(theirs.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteFile("f1", "k1", 50)->blob_id, "blob-f1.png");
  EXPECT_EQ(store_->GetFile("f1", 50).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->CountFiles("k1", "evolink", 50).value(), 1);
}

TEST_P(TaskStoreContract, ASameNamedUploadReplacesTheOldUnlessOverwriteIsRefused) {
  ASSERT_TRUE(store_->InsertFile(File("f1", "k1", "a.png", 10, 1000), 10, 0, true).ok());
  auto replaced = store_->InsertFile(File("f2", "k1", "a.png", 20, 1000), 20, 0, true);
  ASSERT_TRUE(replaced.ok());
  ASSERT_TRUE(replaced->has_value());
  EXPECT_EQ((*replaced)->blob_id, "blob-f1.png") << "its blob is the caller's to delete";
  EXPECT_EQ(store_->FindFileByName("k1", "evolink", "uploads", "a.png", 30)->id, "f2");
  EXPECT_EQ(store_->CountFiles("k1", "evolink", 30).value(), 1);
  auto refused = store_->InsertFile(File("f3", "k1", "a.png", 30, 1000), 30, 0, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  auto other_key = store_->InsertFile(File("f4", "k2", "a.png", 30, 1000), 30, 0, false);
  ASSERT_TRUE(other_key.ok()) << "names are per key";
  EXPECT_FALSE(other_key->has_value());
  EXPECT_EQ(store_->FindFileByName("k1", "evolink", "uploads", "a.png", 30)->id, "f2");
  EXPECT_EQ(store_->FindFileByName("k2", "evolink", "uploads", "a.png", 30)->id, "f4");
}

TEST_P(TaskStoreContract, TheQuotaCountsLiveFilesAndExpiredOnesAreTakenOnce) {
  ASSERT_TRUE(store_->InsertFile(File("f1", "k1", "a.png", 10, 100), 10, 2, true).ok());
  ASSERT_TRUE(store_->InsertFile(File("f2", "k1", "b.png", 20, 1000), 20, 2, true).ok());
  auto over = store_->InsertFile(File("f3", "k1", "c.png", 30, 1000), 30, 2, true);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kForbidden);
  EXPECT_TRUE(store_->InsertFile(File("f3", "k1", "b.png", 30, 1000), 30, 2, true).ok()) << "a replacement adds none";
  EXPECT_TRUE(store_->InsertFile(File("f4", "k1", "d.png", 150, 1000), 150, 2, true).ok()) << "f1 expired at 100";
  EXPECT_EQ(store_->GetFile("f1", 150).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->InsertFile(File("f5", "k2", "a.png", 150, 1000), 150, 2, true).ok()) << "f1's name is free";

  auto expired = store_->TakeExpiredFiles(150, 10);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].id, "f1");
  EXPECT_TRUE(store_->TakeExpiredFiles(150, 10)->empty());
  EXPECT_EQ(store_->TakeExpiredFiles(5000, 10)->size(), 3u);
}

}  // namespace
}  // namespace wanserve::store
