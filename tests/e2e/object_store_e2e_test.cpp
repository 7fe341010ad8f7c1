// Outputs and uploads in an S3-compatible object store (the tests' s3rver): links stream from
// the bucket or redirect to presigned URLs, with ranges and HEAD on both; nodes that share a
// database and the bucket, but no folder, serve each other's files.
#include <csignal>
#include <fstream>
#include <thread>

#include "e2e_fixture.h"
#include "media/probe.h"
#include "objectstore/s3_blob_store.h"
#include "testing/s3_server.h"

namespace wanserve::e2e {
namespace {

constexpr const char* kSecret = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

std::vector<std::string> With(std::vector<std::string> flags, const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

std::vector<std::string> Testpattern(int steps, int step_delay_ms) {
  return {"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", std::to_string(steps),
          "--providers-testpattern-step-delay-ms", std::to_string(step_delay_ms)};
}

class ObjectStoreE2E : public ServerTest {
 protected:
  void SetUp() override {
    if (!testing::S3Server::Available()) GTEST_SKIP() << "Node.js or tests/node/node_modules missing (scripts/bootstrap.sh)";
    s3_ = std::make_unique<testing::S3Server>();
    setenv("AWS_ACCESS_KEY_ID", testing::S3Server::kAccessKey, 1);
    setenv("AWS_SECRET_ACCESS_KEY", testing::S3Server::kSecretKey, 1);
    setenv("WANSERVE_SECRET", kSecret, 1);
    objectstore::S3Options o;
    o.bucket = s3_->bucket();
    o.prefix = "e2e/";
    o.endpoint = s3_->endpoint();
    o.path_style = true;
    o.credentials = {testing::S3Server::kAccessKey, testing::S3Server::kSecretKey, ""};
    net::OutboundOptions allow_loopback;
    allow_loopback.allowlist = *net::ParseAllowList("127.0.0.1");
    client_ = std::make_unique<net::OutboundClient>(allow_loopback);
    outputs_ = std::make_unique<objectstore::S3BlobStore>(o, "outputs/", dir_.path() / "look", *client_);
    uploads_ = std::make_unique<objectstore::S3BlobStore>(o, "uploads/", dir_.path() / "look", *client_);
  }

  std::vector<std::string> S3Flags(const std::string& delivery) {
    return {"--blobs-url",         "s3://" + s3_->bucket() + "/e2e", "--blobs-s3-endpoint", s3_->endpoint(),
            "--blobs-s3-path-style", "true",                         "--blobs-delivery",    delivery};
  }

  // Regular files under the data folder's blobs/ and uploads/, scratch aside.
  size_t LocalFiles(const std::string& data_dir) {
    size_t n = 0;
    for (const char* folder : {"blobs", "uploads"}) {
      const auto root = std::filesystem::path(data_dir) / folder;
      if (!std::filesystem::exists(root)) continue;
      for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        if (e.is_regular_file() && e.path().parent_path().filename() != "tmp") ++n;
      }
    }
    return n;
  }

  // Submits an edit of a freshly uploaded clip (the input is read back from the bucket) and
  // returns the output's link.
  std::string EditedVideoUrl() {
    const std::string clip = UploadClip(2.0);
    auto edit = Authed("POST", "/api/v1/generation/wan/wan-v2.7/edit-video",
                       json{{"prompt", "clay"}, {"video_url", clip}, {"resolution", "720p"}, {"duration", 2},
                            {"aspect_ratio", "16:9"}}.dump());
    EXPECT_EQ(edit.status, 200) << edit.body;
    json done = WaitDone(json::parse(edit.body)["id"]);
    EXPECT_EQ(done["status"], "COMPLETED") << done.dump();
    return done["data"]["video"]["url"];
  }

  std::unique_ptr<testing::S3Server> s3_;
  std::unique_ptr<net::OutboundClient> client_;
  std::unique_ptr<objectstore::S3BlobStore> outputs_;
  std::unique_ptr<objectstore::S3BlobStore> uploads_;
};

TEST_F(ObjectStoreE2E, ANodeWhoseBucketDoesNotAnswerIsNotReady) {
  StartServer(With(S3Flags("stream"), {"--providers-testpattern-enabled", "true"}));
  auto ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(json::parse(ready.body)["blobs"], "ok");
  s3_.reset();  // the object store goes away
  ready = Call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_EQ(json::parse(ready.body)["blobs"], "unavailable");
}

TEST_F(ObjectStoreE2E, FilesLiveInTheBucketAndLinksStreamWithRangesAndHead) {
  StartServer(With(Testpattern(2, 0), S3Flags("stream")));
  const std::string url = EditedVideoUrl();
  auto whole = net::Fetch({.url = url});
  ASSERT_TRUE(whole.ok());
  ASSERT_EQ(whole->status, 200) << whole->body;
  EXPECT_EQ(whole->headers["content-type"], "video/mp4");
  EXPECT_TRUE(media::ProbeVideoFile(Download(url)).ok());

  auto head = net::Fetch({.method = "HEAD", .url = url});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["content-length"], std::to_string(whole->body.size()));
  EXPECT_TRUE(head->body.empty());
  auto range = net::Fetch({.url = url, .headers = {"Range: bytes=100-299"}});
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->headers["content-range"], "bytes 100-299/" + std::to_string(whole->body.size()));
  EXPECT_EQ(range->body, whole->body.substr(100, 200));

  // The upload and the output are objects in the bucket, and nothing stayed on local disk.
  EXPECT_EQ(outputs_->List("", "", 100)->size(), 1u);
  EXPECT_EQ(uploads_->List("", "", 100)->size(), 1u);
  EXPECT_EQ(LocalFiles(data_dir_), 0u);
}

TEST_F(ObjectStoreE2E, RedirectDeliverySendsPresignedUrlsThatServeRanges) {
  StartServer(With(Testpattern(2, 0), S3Flags("redirect")));
  const std::string url = EditedVideoUrl();
  auto answer = net::Fetch({.url = url});
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ(answer->status, 302);
  const std::string presigned = answer->headers["location"];
  EXPECT_TRUE(presigned.starts_with(s3_->endpoint())) << presigned;
  EXPECT_NE(presigned.find("X-Amz-Signature="), std::string::npos);
  auto whole = net::Fetch({.url = presigned});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->headers["content-type"], "video/mp4");
  auto range = net::Fetch({.url = presigned, .headers = {"Range: bytes=0-9"}});
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->body, whole->body.substr(0, 10));
  auto head = net::Fetch({.method = "HEAD", .url = url});
  EXPECT_EQ(head->status, 302);
  // Our own signature is checked before any redirect.
  std::string tampered = url;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  EXPECT_EQ(net::Fetch({.url = tampered})->status, 403);
}

TEST_F(ObjectStoreE2E, NodesSharingNoFolderServeEachOthersFilesAndAKilledWorkerLeavesNoOrphan) {
  UsePostgres();
  const std::vector<std::string> short_leases = {"--workers-lease-ms", "2000", "--workers-renew-every-ms", "400",
                                                 "--workers-recovery-every-ms", "300"};
  StartServer(With(With(Testpattern(2, 0), S3Flags("stream")), {"--role", "api"}));
  const std::string worker_dir = (dir_.path() / "worker-data").string();
  auto worker = std::make_unique<testing::ServerProcess>(
      worker_dir, With(With(With(Testpattern(20, 100), S3Flags("stream")), {"--role", "worker"}), short_leases));
  const std::string key = FundedKey(10'000);
  auto submitted =
      Authed("POST", "/v1/images/generations", json{{"model", "wan-2.7-image"}, {"prompt", "cat"}}.dump(), key);
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  const std::string id = json::parse(submitted.body)["id"];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (json::parse(Authed("GET", "/v1/tasks/" + id, "", key).body).value("status", "") != "processing" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  worker->Stop(SIGKILL);
  // What the killed attempt may have uploaded before it died: an object of attempt 1.
  const std::string orphan = media::BlobStore::NewOutputKey(id, 1, 0, "png");
  ASSERT_TRUE(outputs_->Write(orphan, "half a picture").ok());
  worker = std::make_unique<testing::ServerProcess>(
      worker_dir, With(With(With(Testpattern(2, 0), S3Flags("stream")), {"--role", "worker"}), short_leases));
  json done = WaitDone(id, 60, key);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  ASSERT_EQ(done["results"].size(), 1u);
  // The api node, which made nothing, serves what the worker stored.
  const std::string url = done["results"][0];
  auto file = net::Fetch({.url = url});
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->status, 200);
  EXPECT_TRUE(file->body.starts_with("\x89PNG"));
  auto objects = outputs_->List(media::BlobStore::TaskPrefix(id), "", 100);
  ASSERT_TRUE(objects.ok());
  EXPECT_EQ(objects->size(), 1u) << "only the recorded output stays in the bucket";
  EXPECT_EQ(outputs_->Stat(orphan).error().code, ErrorCode::kNotFound) << "the dead attempt's upload was swept";
  EXPECT_EQ(LocalFiles(data_dir_) + LocalFiles(worker_dir), 0u);
}

class LocalLinksE2E : public ServerTest {};

// Storage settings a server cannot work with stop it at start, naming what is wrong.
TEST_F(LocalLinksE2E, BadStorageSettingsAreStartupErrorsThatNameTheirCause) {
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
  auto serve = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv = {testing::WanserveBinary(), "serve", "--listen", "127.0.0.1:0", "--data", data_dir_,
                                     "--providers-testpattern-enabled", "true"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return testing::RunCommand(argv);
  };
  auto r = serve({"--blobs-url", "s3://media-bucket/prod"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no credentials were found"), std::string::npos) << r.err;
  r = serve({"--blobs-url", "https://media-bucket"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("blobs.url must be s3://"), std::string::npos) << r.err;
  r = serve({"--blobs-delivery", "sideways"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("blobs.delivery must be stream or redirect"), std::string::npos) << r.err;
  r = serve({"--secret", "short"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("secret must be at least 32 characters"), std::string::npos) << r.err;
  // Credentials from a file are found; the store they lead to is unreachable, and the start
  // says so instead of failing the first task.
  const auto credentials = dir_.path() / "aws-credentials";
  std::ofstream(credentials) << "[other]\naws_access_key_id = NOPE\n[default]\naws_access_key_id = AKIDEXAMPLE\n"
                                "aws_secret_access_key = secret\n";
  r = serve({"--blobs-url", "s3://media-bucket/prod", "--blobs-s3-endpoint", "http://127.0.0.1:1",
             "--blobs-s3-path-style", "true", "--blobs-s3-credentials-file", credentials.string()});
  EXPECT_EQ(r.exit_code, 1);
  const std::string said = r.out + r.err;
  EXPECT_NE(said.find("cannot use bucket media-bucket at http://127.0.0.1:1"), std::string::npos) << said;
}

TEST_F(LocalLinksE2E, LinksToTheDataFolderAnswerHeadAndRanges) {
  StartServer();
  auto submitted = Authed("POST", "/v1/images/generations", json{{"model", "wan-2.7-image"}, {"prompt", "cat"}}.dump());
  ASSERT_EQ(submitted.status, 200) << submitted.body;
  json done = WaitDone(json::parse(submitted.body)["id"]);
  ASSERT_EQ(done["status"], "completed") << done.dump();
  const std::string url = done["results"][0];
  auto whole = net::Fetch({.url = url});
  ASSERT_EQ(whole->status, 200);
  auto head = net::Fetch({.method = "HEAD", .url = url});
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers["content-length"], std::to_string(whole->body.size()));
  EXPECT_EQ(head->headers["content-type"], "image/png");
  EXPECT_TRUE(head->body.empty());
  auto range = net::Fetch({.url = url, .headers = {"Range: bytes=-16"}});
  EXPECT_EQ(range->status, 206);
  EXPECT_EQ(range->body, whole->body.substr(whole->body.size() - 16));
  auto beyond = net::Fetch({.url = url, .headers = {"Range: bytes=" + std::to_string(whole->body.size()) + "-"}});
  EXPECT_EQ(beyond->status, 416);
  // The output sits under its task and attempt in the data folder.
  const std::string id = done["id"];
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(data_dir_) / "blobs" / id / "1"));
}

}  // namespace
}  // namespace wanserve::e2e
