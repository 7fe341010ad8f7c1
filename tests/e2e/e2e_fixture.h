#pragma once
// Black-box fixture: a real wanserve process on loopback, its data folder, and helpers that
// talk to it the way a client would.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace wanserve::e2e {

using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  // A failed test shows what the server logged.
  void TearDown() override;
  // Servers and admin commands of this test use a fresh PostgreSQL schema instead of the data
  // folder's SQLite file (WANSERVE_STORE_URL); the test is skipped when no PostgreSQL server
  // is installed. Call before StartServer.
  void UsePostgres();
  // By default the server generates with the testpattern provider, enabled on purpose (it is
  // off unless configured) and fast; tests that need slow tasks or a model pass their own flags.
  void StartServer(std::vector<std::string> extra = {"--providers-testpattern-enabled", "true",
                                                     "--providers-testpattern-steps", "2",
                                                     "--providers-testpattern-step-delay-ms", "0"});
  void RestartServer(int signal, std::vector<std::string> extra);

  // A body is sent as application/json unless headers name a Content-Type.
  net::HttpResult Call(const std::string& method, const std::string& path, const std::string& body = "",
                       const std::vector<std::string>& headers = {});
  net::HttpResult Authed(const std::string& method, const std::string& path, const std::string& body = "",
                         const std::string& key = "");
  // Polls the dialect's query endpoint until the task is terminal; returns the last body.
  json WaitDone(const std::string& id, int timeout_s = 120, const std::string& key = "");
  // Makes a 320x240 clip with ffmpeg (with a 440 Hz tone when `audio`) and uploads it
  // (POST /v1/files); returns its signed URL.
  std::string UploadClip(double seconds, const std::string& key = "", bool audio = false);
  // Makes a picture with ffmpeg and uploads it; returns its signed URL.
  std::string UploadPicture(int width, int height, const std::string& key = "");
  // Uploads a file (POST /v1/files); returns its signed URL.
  std::string UploadFile(const std::string& path, const std::string& key = "");
  // Downloads a URL into the temp dir and returns the file path.
  std::string Download(const std::string& url);
  // An account with the given credits (through `wanserve admin`) and a key on it; returns the
  // key and remembers the account in account_.
  std::string FundedKey(int64_t permanent, int64_t subscription = 0, const std::string& expires = "",
                        std::vector<std::string> account_flags = {}, std::vector<std::string> key_flags = {});
  // `wanserve admin ledger check` finds every balance explained and every hold settled once.
  void ExpectLedgerClean();
  // GET /api/v1/credits (skills_video view).
  json Credits(const std::string& key);

  testing::TempDir dir_;
  std::string data_dir_ = (dir_.path() / "data").string();
  std::string key_;
  std::vector<std::string> last_extra_;
  std::unique_ptr<testing::ServerProcess> server_;
  int accounts_ = 0;
  std::string account_;
  std::string store_url_;  // set by UsePostgres

 public:
  // For tests that run on both backends (INSTANTIATE_TEST_SUITE_P with ::testing::Values(...)).
  static std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }
};

}  // namespace wanserve::e2e
