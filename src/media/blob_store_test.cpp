#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "media/local_blob_store.h"
#include "testing/temp_dir.h"

namespace wanserve::media {
namespace {

std::string ReadAll(const BlobStore& store, const std::string& key, uint64_t offset, uint64_t length) {
  auto reader = store.Open(key, offset, length);
  EXPECT_TRUE(reader.ok());
  std::string out;
  char buffer[3];
  for (;;) {
    auto n = (*reader)->Read(buffer, sizeof(buffer));
    EXPECT_TRUE(n.ok());
    if (!n.ok() || *n == 0) return out;
    out.append(buffer, *n);
  }
}

std::vector<std::string> Keys(const Result<std::vector<BlobEntry>>& page) {
  std::vector<std::string> keys;
  for (const auto& b : *page) keys.push_back(b.key);
  return keys;
}

TEST(BlobStore, KeysCannotEscapeTheStore) {
  testing::TempDir dir;
  LocalBlobStore blobs(dir.path() / "blobs");
  EXPECT_TRUE(BlobStore::IsValidKey(BlobStore::NewId("png")));
  const std::string output = BlobStore::NewOutputKey("task_wan_1712345678abc", 3, 1, "mp4");
  EXPECT_TRUE(BlobStore::IsValidKey(output)) << output;
  const auto parsed = BlobStore::ParseOutputKey(output);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->task_id, "task_wan_1712345678abc");
  EXPECT_EQ(parsed->attempt, 3);
  for (const char* bad : {"../etc/passwd", "..%2f..%2fx.png", "0123456789abcdef0123456789abcdef.sh",
                          "0123456789ABCDEF0123456789abcdef.png", "", "/abs.png",
                          "0123456789abcdef0123456789abcdef.png/../../x", "t1/1/../../x.png",
                          "tmp/1/0_0123456789abcdef.png", "t1/01/0_0123456789abcdef.png", "t1/-1/0_0123456789abcdef.png",
                          "t1/1/0_0123456789abcdef.exe", "t.1/1/0_0123456789abcdef.png", "t1/1/x/0_0123456789abcdef.png"}) {
    EXPECT_FALSE(BlobStore::IsValidKey(bad)) << bad;
    EXPECT_FALSE(blobs.LocalFile(bad)) << bad;
    EXPECT_FALSE(blobs.Write(bad, "x").ok()) << bad;
  }
  EXPECT_EQ(BlobStore::ContentTypeFor(output), "video/mp4");
}

TEST(BlobStore, PutStatRangeReadAndDeleteWithTheFoldersItMade) {
  testing::TempDir dir;
  LocalBlobStore blobs(dir.path() / "blobs");
  const std::string key = BlobStore::NewOutputKey("gen_abc", 1, 0, "png");
  auto size = blobs.Write(key, "hello world");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 11);
  EXPECT_FALSE(std::filesystem::exists(blobs.ScratchPath(key))) << "the scratch file became the blob";
  auto info = blobs.Stat(key);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->bytes, 11);
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(info->modified_ms), static_cast<double>(now_ms), 60'000);
  EXPECT_EQ(ReadAll(blobs, key, 0, 11), "hello world");
  EXPECT_EQ(ReadAll(blobs, key, 6, 3), "wor");
  ASSERT_TRUE(blobs.Delete(key).ok());
  EXPECT_EQ(blobs.Stat(key).error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "blobs" / "gen_abc")) << "an empty task folder goes with its last file";
  EXPECT_TRUE(blobs.Delete(key).ok()) << "deleting what is gone succeeds";
}

TEST(BlobStore, ListsKeysInOrderByPrefixAndPage) {
  testing::TempDir dir;
  LocalBlobStore blobs(dir.path() / "blobs");
  std::vector<std::string> written = {BlobStore::NewId("png"), BlobStore::NewId("mp4"),
                                      BlobStore::NewOutputKey("gen_a", 1, 0, "png"),
                                      BlobStore::NewOutputKey("gen_a", 2, 0, "png"),
                                      BlobStore::NewOutputKey("gen_b", 1, 0, "mp4")};
  for (const auto& key : written) ASSERT_TRUE(blobs.Write(key, "x").ok()) << key;
  // Neither half-written files nor strangers in the folder are blobs.
  std::ofstream(blobs.ScratchPath("0123456789abcdef0123456789abcdef.png")) << "half";
  std::ofstream(dir.path() / "blobs" / "gen_a" / "1" / "notes.txt") << "x";
  std::sort(written.begin(), written.end());

  auto all = blobs.List("", "", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Keys(all), written);
  auto task = blobs.List("gen_a/", "", 100);
  EXPECT_EQ(Keys(task), (std::vector<std::string>{written[0 + 2], written[1 + 2]}))
      << "flat keys sort before task keys; gen_a's two attempts follow";
  std::vector<std::string> paged;
  for (std::string after;;) {
    auto page = blobs.List("", after, 2);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    EXPECT_LE(page->size(), 2u);
    for (const auto& b : *page) paged.push_back(b.key);
    after = page->back().key;
  }
  EXPECT_EQ(paged, written);
}

TEST(BlobStore, DeletesBlobsOlderThanACutoff) {
  testing::TempDir dir;
  LocalBlobStore blobs(dir.path() / "blobs");
  const std::string old_key = BlobStore::NewId("png");
  const std::string new_key = BlobStore::NewOutputKey("gen_a", 1, 0, "png");
  ASSERT_TRUE(blobs.Write(old_key, "x").ok());
  ASSERT_TRUE(blobs.Write(new_key, "x").ok());
  const auto now = std::filesystem::file_time_type::clock::now();
  std::filesystem::last_write_time(*blobs.LocalFile(old_key), now - std::chrono::hours(3));
  const int64_t two_hours_ago_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                       (std::chrono::system_clock::now() - std::chrono::hours(2)).time_since_epoch())
                                       .count();
  EXPECT_EQ(DeleteOlderThan(blobs, two_hours_ago_ms).value(), 1);
  EXPECT_FALSE(blobs.Stat(old_key).ok());
  EXPECT_TRUE(blobs.Stat(new_key).ok());
}

TEST(BlobStore, StaleHalfWrittenFilesAreSweptAndFreshOnesAndBlobsKept) {
  testing::TempDir dir;
  LocalBlobStore blobs(dir.path() / "blobs");
  const auto now = std::filesystem::file_time_type::clock::now();
  const auto stale = dir.path() / "blobs" / "tmp" / "0123456789abcdef0123456789abcdef.mp4.part";
  const auto fresh = dir.path() / "blobs" / "tmp" / "fedcba9876543210fedcba9876543210.mp4.part";
  std::ofstream(stale) << "half";
  std::ofstream(fresh) << "half";
  std::filesystem::last_write_time(stale, now - std::chrono::hours(7));
  const std::string id = BlobStore::NewId("png");
  ASSERT_TRUE(blobs.Write(id, "whole").ok());
  std::filesystem::last_write_time(*blobs.LocalFile(id), now - std::chrono::hours(7));
  EXPECT_EQ(blobs.DeleteStalePartials(now - std::chrono::hours(6)), 1);
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(fresh)) << "a write may still be under way";
  EXPECT_TRUE(std::filesystem::exists(*blobs.LocalFile(id))) << "finished blobs are the sweeper's, not this";
}

}  // namespace
}  // namespace wanserve::media
