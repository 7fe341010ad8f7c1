#pragma once
// The S3 server of the tests (tests/node: s3rver on Node.js, a protocol-faithful stand-in for a
// real object store that checks SigV4 signatures), started in a temporary folder on a free
// loopback port with one bucket. Credentials: S3RVER / S3RVER.
#include <sys/types.h>

#include <string>

#include "testing/temp_dir.h"

namespace wanserve::testing {

class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";

  // Whether Node.js and the npm packages of tests/node are installed (scripts/bootstrap.sh).
  static bool Available();

  explicit S3Server(std::string bucket = "wanserve-test");
  ~S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // "http://127.0.0.1:<port>"
  const std::string& bucket() const { return bucket_; }
  // Where the server keeps the bucket's objects on disk.
  std::string directory() const { return dir_.path().string(); }
  // What the server printed (every request when S3RVER_VERBOSE is set).
  std::string log() const;

 private:
  TempDir dir_;
  std::string bucket_;
  std::string endpoint_;
  pid_t pid_ = -1;
};

}  // namespace wanserve::testing
