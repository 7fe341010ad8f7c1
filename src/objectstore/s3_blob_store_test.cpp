#include "objectstore/s3_blob_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>

#include "common/crypto.h"
#include "net/http_client.h"
#include "testing/s3_server.h"
#include "testing/temp_dir.h"

namespace wanserve::objectstore {
namespace {

class S3BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::S3Server::Available()) GTEST_SKIP() << "Node.js or tests/node/node_modules missing (run scripts/bootstrap.sh)";
    server_ = std::make_unique<testing::S3Server>();
    options_.bucket = server_->bucket();
    options_.prefix = "deploy/";
    options_.endpoint = server_->endpoint();
    options_.path_style = true;
    options_.credentials = {testing::S3Server::kAccessKey, testing::S3Server::kSecretKey, ""};
    options_.part_bytes = 5 << 20;  // S3's smallest part
    options_.read_chunk_bytes = 1 << 20;
    net::OutboundOptions outbound;
    outbound.allowlist = *net::ParseAllowList("127.0.0.1");
    client_ = std::make_unique<net::OutboundClient>(outbound);
    store_ = std::make_unique<S3BlobStore>(options_, "outputs/", dir_.path() / "scratch", *client_);
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "S3 server log:\n" << server_->log();
  }

  std::string ReadAll(const std::string& key, uint64_t offset, uint64_t length) {
    auto reader = store_->Open(key, offset, length);
    EXPECT_TRUE(reader.ok());
    std::string out;
    std::string buffer(300 * 1024, '\0');
    for (;;) {
      auto n = (*reader)->Read(buffer.data(), buffer.size());
      EXPECT_TRUE(n.ok()) << n.error().message;
      if (!n.ok() || *n == 0) return out;
      out.append(buffer.data(), *n);
    }
  }

  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7919) % 251);
    return s;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::S3Server> server_;
  S3Options options_;
  std::unique_ptr<net::OutboundClient> client_;
  std::unique_ptr<S3BlobStore> store_;
};

TEST_F(S3BlobStoreTest, SmallAndMultipartPutsReadBackWholeAndByRange) {
  ASSERT_TRUE(store_->CheckReachable().ok());
  const std::string small_key = media::BlobStore::NewOutputKey("gen_a", 1, 0, "png");
  ASSERT_EQ(store_->Write(small_key, "hello world").value(), 11);
  EXPECT_EQ(ReadAll(small_key, 0, 11), "hello world");
  EXPECT_EQ(ReadAll(small_key, 6, 3), "wor");

  // 12 MiB: three parts up, twelve ranged GETs down; every byte where it was.
  const std::string big = Bytes(12 << 20);
  const std::string big_key = media::BlobStore::NewOutputKey("gen_a", 1, 1, "mp4");
  ASSERT_EQ(store_->Write(big_key, big).value(), static_cast<int64_t>(big.size()));
  EXPECT_FALSE(std::filesystem::exists(store_->ScratchPath(big_key))) << "the local file is gone once stored";
  auto info = store_->Stat(big_key);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->bytes, static_cast<int64_t>(big.size()));
  EXPECT_NEAR(static_cast<double>(info->modified_ms), static_cast<double>(media::BlobClockNowMs()), 120'000);
  EXPECT_EQ(Sha256Hex(ReadAll(big_key, 0, big.size())), Sha256Hex(big));
  EXPECT_EQ(ReadAll(big_key, (5 << 20) - 2, 4), big.substr((5 << 20) - 2, 4)) << "a range across a part boundary";
  // The object sits under the prefix and namespace, as the operator will see it in the bucket.
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(server_->directory()) / "data" / options_.bucket /
                                      "deploy" / "outputs" / "gen_a"));
}

TEST_F(S3BlobStoreTest, ListsByPrefixInPagesAndDeletes) {
  std::vector<std::string> keys = {media::BlobStore::NewId("png"), media::BlobStore::NewOutputKey("gen_a", 1, 0, "png"),
                                   media::BlobStore::NewOutputKey("gen_a", 2, 0, "png"),
                                   media::BlobStore::NewOutputKey("gen_b", 1, 0, "png")};
  for (const auto& key : keys) ASSERT_TRUE(store_->Write(key, "x").ok());
  // A stranger's object in the namespace is not a blob.
  S3BlobStore::Call stranger;
  stranger.method = "PUT";
  stranger.object = "deploy/outputs/gen_a/notes.txt";
  stranger.body = "x";
  ASSERT_TRUE(store_->Send(stranger).ok());
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> paged;
  for (std::string after;;) {
    auto page = store_->List("", after, 2);
    ASSERT_TRUE(page.ok()) << page.error().message;
    if (page->empty()) break;
    for (const auto& b : *page) paged.push_back(b.key);
    after = page->back().key;
  }
  EXPECT_EQ(paged, keys);
  auto task = store_->List(media::BlobStore::TaskPrefix("gen_a"), "", 100);
  ASSERT_TRUE(task.ok());
  EXPECT_EQ(task->size(), 2u);
  ASSERT_TRUE(store_->Delete(keys[1]).ok());
  EXPECT_EQ(store_->Stat(keys[1]).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->Delete(keys[1]).ok()) << "deleting what is gone succeeds";
  EXPECT_EQ(media::DeleteOlderThan(*store_, media::BlobClockNowMs() + 60'000).value(), 3);
  EXPECT_TRUE(store_->List("", "", 10)->empty());
}

TEST_F(S3BlobStoreTest, PresignedLinksWorkAndTamperedOrExpiredOnesAreRefused) {
  const std::string key = media::BlobStore::NewOutputKey("gen_a", 1, 0, "png");
  ASSERT_TRUE(store_->Write(key, "picture").ok());
  auto url = store_->PresignedUrl(key, 300);
  ASSERT_TRUE(url);
  auto got = net::Fetch({.url = *url});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, 200);
  EXPECT_EQ(got->body, "picture");
  EXPECT_EQ(got->headers["content-type"], "image/png") << "stored with its type, so the redirect serves it";

  std::string tampered = *url;
  tampered[tampered.size() - 1] = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(net::Fetch({.url = tampered})->status, 403);

  SignableRequest r;
  r.host = server_->endpoint().substr(7);
  r.path = "/" + options_.bucket + "/deploy/outputs/" + key;
  const int64_t an_hour_ago = static_cast<int64_t>(std::time(nullptr)) - 3600;
  const std::string expired =
      server_->endpoint() + r.path + "?" + PresignQuery(r, options_.credentials, options_.region, an_hour_ago, 60);
  EXPECT_EQ(net::Fetch({.url = expired})->status, 403);
}

TEST_F(S3BlobStoreTest, WrongCredentialsAreANamedStartupError) {
  S3Options wrong = options_;
  wrong.credentials.secret_access_key = "not-the-secret";
  S3BlobStore store(wrong, "outputs/", dir_.path() / "scratch2", *client_);
  const Status reachable = store.CheckReachable();
  ASSERT_FALSE(reachable.ok());
  EXPECT_NE(reachable.error().message.find("SignatureDoesNotMatch"), std::string::npos) << reachable.error().message;
}

TEST(S3Url, BucketAndPrefix) {
  S3Options o;
  ASSERT_TRUE(ParseS3Url("s3://media-bucket/wanserve/prod/", o).ok());
  EXPECT_EQ(o.bucket, "media-bucket");
  EXPECT_EQ(o.prefix, "wanserve/prod/");
  ASSERT_TRUE(ParseS3Url("s3://media-bucket", o).ok());
  EXPECT_EQ(o.prefix, "");
  EXPECT_FALSE(ParseS3Url("https://media-bucket", o).ok());
  EXPECT_FALSE(ParseS3Url("s3://Bad_Bucket/x", o).ok());
  EXPECT_EQ(AwsEndpoint("eu-west-1"), "https://s3.eu-west-1.amazonaws.com");
}

}  // namespace
}  // namespace wanserve::objectstore
