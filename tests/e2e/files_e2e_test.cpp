// The providers' files APIs (API-DIALECTS-2 §5): kie's uploads, EvoLink's files API and
// DashScope's temporary storage, driven as their own clients drive them; every file is then
// used as an input through another dialect.
#include <fmt/format.h>

#include <csignal>
#include <fstream>

#include "common/crypto.h"
#include "common/time_format.h"
#include "e2e_fixture.h"
#include "media/probe.h"
#include "testing/loopback_http_server.h"

namespace wanserve::e2e {
namespace {

constexpr const char* kBoundary = "----wanserve-files-boundary";

std::string Part(const std::string& name, const std::string& value, const std::string& file_name = "") {
  std::string head = fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"", kBoundary, name);
  if (!file_name.empty()) head += fmt::format("; filename=\"{}\"\r\nContent-Type: application/octet-stream", file_name);
  return head + "\r\n\r\n" + value + "\r\n";
}

// The text with each digit as 9 and each lower-case letter as a: "2026-...Z" -> "9999-...Z".
std::string Shape(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c >= '0' && c <= '9') c = '9';
    else if (c >= 'a' && c <= 'z') c = 'a';
  }
  return out;
}

std::string Form(const std::string& parts) { return parts + "--" + kBoundary + "--\r\n"; }

std::string DataUrl(const std::string& bytes) {
  return "data:image/png;base64," + Base64Encode(std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

class FilesE2E : public ServerTest {
 protected:
  void SetUp() override {
    StartServer({"--providers-testpattern-enabled", "true", "--providers-testpattern-steps", "2",
                 "--providers-testpattern-step-delay-ms", "0", "--allow-network", "127.0.0.1/32",
                 "--files-max-files-per-key", "3"});
  }

  std::string Picture(int width, int height) {
    const std::string path = (dir_.path() / fmt::format("p{}x{}-{}.png", width, height, pictures_++)).string();
    auto made = testing::RunCommand({"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                                     fmt::format("testsrc2=size={}x{}", width, height), "-frames:v", "1", path});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  net::HttpResult PostForm(const std::string& path, const std::string& form, const std::string& key = "") {
    return Call("POST", path, form,
                {"Authorization: Bearer " + (key.empty() ? key_ : key),
                 std::string("Content-Type: multipart/form-data; boundary=") + kBoundary});
  }

  std::string Bytes(const std::string& url) {
    std::ifstream in(Download(url), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // A unified image edit of the picture behind url; the finished task's status.
  std::string EditThroughUnified(const std::string& url) {
    auto r = Authed("POST", "/v1/images/generations",
                    json{{"model", "wan-2.7-image"}, {"prompt", "make it blue"}, {"image_urls", {url}},
                         {"size", {{"width", 320}, {"height", 256}}}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return r.body;
    return WaitDone(json::parse(r.body)["id"]).value("status", "");
  }

  int pictures_ = 0;
};

TEST_F(FilesE2E, KieUploadsByStreamBase64AndUrlFeedTheUnifiedDialect) {
  const std::string first = Picture(320, 240);
  auto r = PostForm("/api/file-stream-upload",
                    Form(Part("uploadPath", "/images/") + Part("fileName", "cat.png") + Part("file", first, "c.png")));
  ASSERT_EQ(r.status, 200) << r.body;
  json up = json::parse(r.body);
  EXPECT_EQ(up["success"], true);
  EXPECT_EQ(up["code"], 200);
  EXPECT_EQ(up["msg"], "File uploaded successfully");
  EXPECT_EQ(up["data"]["fileName"], "cat.png");
  EXPECT_EQ(up["data"]["filePath"], "images/cat.png");
  EXPECT_EQ(up["data"]["fileSize"], first.size());
  EXPECT_EQ(up["data"]["mimeType"], "image/png");
  EXPECT_EQ(Shape(up["data"]["uploadedAt"]), "9999-99-99T99:99:99.999Z");
  const int64_t three_days_ms = 72LL * 3600 * 1000;
  EXPECT_EQ(ParseIso8601Utc(up["data"]["expiresAt"]) - ParseIso8601Utc(up["data"]["uploadedAt"]), three_days_ms);
  const std::string first_url = up["data"]["downloadUrl"];
  EXPECT_EQ(up["data"]["fileUrl"], first_url);
  EXPECT_EQ(Bytes(first_url), first);

  // The same path and name overwrite: the old link stops working.
  const std::string second = Picture(400, 300);
  r = PostForm("/api/file-stream-upload",
               Form(Part("uploadPath", "images") + Part("fileName", "cat.png") + Part("file", second, "c.png")));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Call("GET", first_url.substr(first_url.find("/files/"))).status, 404);
  EXPECT_EQ(Bytes(json::parse(r.body)["data"]["downloadUrl"]), second);

  r = Authed("POST", "/api/file-base64-upload", json{{"base64Data", DataUrl(first)}, {"mimeType", "image/png"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  up = json::parse(r.body);
  const std::string name = up["data"]["fileName"];
  ASSERT_EQ(name.size(), 13u + 1 + 10 + 4) << r.body;
  EXPECT_EQ(Shape(name.substr(0, 14)), "9999999999999-") << r.body;
  EXPECT_EQ(name.substr(24), ".png") << r.body;
  EXPECT_EQ(name.substr(14, 10).find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz"), std::string::npos) << r.body;
  EXPECT_TRUE(up["data"]["filePath"].get<std::string>().starts_with("uploads/")) << "uploadPath defaults to uploads";
  EXPECT_EQ(EditThroughUnified(up["data"]["downloadUrl"]), "completed");

  testing::LoopbackHttpServer origin([&](const testing::ReceivedRequest&, int) {
    return testing::ScriptedResponse{200, {{"Content-Type", "image/png"}}, second};
  });
  r = Authed("POST", "/api/file-url-upload", json{{"fileUrl", origin.Url("/photos/dog.png")}, {"uploadPath", "web"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Bytes(json::parse(r.body)["data"]["downloadUrl"]), second);
}

TEST_F(FilesE2E, KieUploadErrorsUseItsEnvelopeAndStatus) {
  const struct {
    std::string path, body;
    int status;
    std::string msg;
  } cases[] = {
      {"/api/file-base64-upload", R"({"uploadPath":"x"})", 400, "Missing required parameter: base64Data"},
      {"/api/file-base64-upload", R"({"base64Data":"%%%not base64%%%"})", 400,
       "Base64 decoding failed: Invalid Base64 format"},
      {"/api/file-url-upload", R"({"fileUrl":"ftp://example.com/a.png"})", 400, "fileUrl: must be an http or https URL"},
      {"/api/file-url-upload", R"({"fileUrl":"http://169.254.169.254/latest/meta-data"})", 400, ""},
      {"/api/file-base64-upload", R"({"base64Data":"aGVsbG8gd29ybGQ=","uploadPath":"../etc"})", 400, ""},
      {"/api/file-base64-upload", R"({"base64Data":"aGVsbG8gd29ybGQ="})", 400, ""},  // not a media file
  };
  for (const auto& c : cases) {
    auto r = Authed("POST", c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j["success"], false) << r.body;
    EXPECT_EQ(j["code"], c.status) << r.body;
    if (!c.msg.empty()) {
      EXPECT_EQ(j["msg"], c.msg) << r.body;
    }
  }
  auto missing = PostForm("/api/file-stream-upload", Form(Part("uploadPath", "x")));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["msg"], "Missing required parameter: file");
  auto unauthorized = Call("POST", "/api/file-base64-upload", "{}", {"Authorization: Bearer sk-wrong"});
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(json::parse(unauthorized.body)["msg"], "Authentication failed: Invalid API Key");
  auto get = Call("GET", "/api/file-stream-upload");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(json::parse(get.body)["code"], 405);
}

TEST_F(FilesE2E, EvoLinkFilesAreListedCountedDownloadedUsedByTheMarketDialectAndDeleted) {
  const std::string picture = Picture(320, 240);
  std::vector<json> uploaded;
  auto r = PostForm("/api/v1/files/upload/stream",
                    Form(Part("upload_path", "shots") + Part("file", picture, "holiday.png")));
  ASSERT_EQ(r.status, 200) << r.body;
  uploaded.push_back(json::parse(r.body)["data"]);
  r = Authed("POST", "/api/v1/files/upload/base64", json{{"base64_data", DataUrl(picture)}, {"file_name", "b.png"}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  uploaded.push_back(json::parse(r.body)["data"]);
  testing::LoopbackHttpServer origin([&](const testing::ReceivedRequest&, int) {
    return testing::ScriptedResponse{200, {{"Content-Type", "image/png"}}, picture};
  });
  r = Authed("POST", "/api/v1/files/upload/url", json{{"file_url", origin.Url("/a/c.png")}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  uploaded.push_back(json::parse(r.body)["data"]);

  const json& f = uploaded[0];
  const std::string file_id = f["file_id"];
  ASSERT_EQ(file_id.size(), 17u) << f;
  EXPECT_TRUE(file_id.starts_with("file_")) << f;
  EXPECT_EQ(file_id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789", 5), std::string::npos) << f;
  EXPECT_EQ(f["original_name"], "holiday.png");
  EXPECT_EQ(f["upload_path"], "shots");
  EXPECT_EQ(f["file_size"], picture.size());
  EXPECT_EQ(f["mime_type"], "image/png");
  EXPECT_TRUE(f["upload_time"].get<std::string>().ends_with("+00:00")) << f;
  EXPECT_EQ(uploaded[1]["file_name"], "b.png");
  EXPECT_EQ(uploaded[2]["original_name"], "c.png");
  const std::string download = f["download_url"];
  EXPECT_EQ(download, server_->base_url() + "/api/v1/files/download/" + f["file_id"].get<std::string>());
  EXPECT_EQ(Bytes(download), picture) << "the download link needs no key";
  EXPECT_EQ(Bytes(f["file_url"]), picture);

  json quota = json::parse(Authed("GET", "/api/v1/files/quota").body);
  EXPECT_EQ(quota["data"]["used_files"], 3);
  EXPECT_EQ(quota["data"]["max_files"], 3);
  EXPECT_EQ(quota["data"]["remain_files"], 0);
  r = Authed("POST", "/api/v1/files/upload/base64", json{{"base64_data", DataUrl(picture)}}.dump());
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(json::parse(r.body)["msg"], "file quota exceeded");

  json page1 = json::parse(Authed("GET", "/api/v1/files/list?page=1&pageSize=2").body);
  EXPECT_EQ(page1["data"]["total"], 3);
  ASSERT_EQ(page1["data"]["files"].size(), 2u);
  EXPECT_EQ(page1["data"]["files"][0]["file_id"], uploaded[2]["file_id"]) << "newest first";
  json page2 = json::parse(Authed("GET", "/api/v1/files/list?page=2&pageSize=2").body);
  ASSERT_EQ(page2["data"]["files"].size(), 1u);
  EXPECT_EQ(page2["data"]["files"][0]["file_id"], f["file_id"]);
  EXPECT_EQ(Authed("GET", "/api/v1/files/list?pageSize=101").status, 400);
  const std::string other_key = testing::CreateKey(data_dir_, "other");
  EXPECT_EQ(json::parse(Authed("GET", "/api/v1/files/list", "", other_key).body)["data"]["total"], 0);

  // The download link is an input in the market dialect, read from the data folder.
  auto task = Call("POST", "/api/v1/jobs/createTask",
                   json{{"model", "wan/2-7-image"}, {"input", {{"prompt", "a poster"}, {"input_urls", {download}}}}}.dump(),
                   {"x-api-key: " + key_, "Content-Type: application/json"});
  ASSERT_EQ(json::parse(task.body)["code"], 200) << task.body;
  json done = WaitDone(json::parse(task.body)["data"]["taskId"]);
  EXPECT_EQ(done["data"]["state"], "success") << done.dump();

  const std::string id = f["file_id"];
  EXPECT_EQ(Authed("DELETE", "/api/v1/files/" + id, "", other_key).status, 404) << "only its owner deletes it";
  r = Authed("DELETE", "/api/v1/files/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["msg"], "File deleted successfully");
  EXPECT_EQ(Call("GET", "/api/v1/files/download/" + id).status, 404);
  EXPECT_EQ(Authed("DELETE", "/api/v1/files/" + id).status, 404);
  task = Call("POST", "/api/v1/jobs/createTask",
              json{{"model", "wan/2-7-image"}, {"input", {{"prompt", "a poster"}, {"input_urls", {download}}}}}.dump(),
              {"x-api-key: " + key_, "Content-Type: application/json"});
  EXPECT_EQ(json::parse(task.body)["code"], 422) << "a deleted file is refused at submit: " << task.body;

  r = Authed("POST", "/api/v1/files/upload/base64",
             json{{"base64_data", DataUrl(picture)}, {"upload_path", "a"}, {"uploadPath", "b"}}.dump());
  EXPECT_EQ(r.status, 400) << "one field under two names with different values: " << r.body;
}

TEST_F(FilesE2E, DashScopeTemporaryStorageServesOssUrlsToTheModelOfThePolicy) {
  auto policy_r = Authed("GET", "/api/v1/uploads?action=getPolicy&model=wan2.7-image");
  ASSERT_EQ(policy_r.status, 200) << policy_r.body;
  const json p = json::parse(policy_r.body)["data"];
  EXPECT_EQ(p["expire_in_seconds"], 300);
  EXPECT_EQ(p["x_oss_forbid_overwrite"], "true");
  EXPECT_EQ(p["upload_host"], server_->base_url() + "/api/v1/uploads/oss");
  const std::string dir = p["upload_dir"];
  const std::string key = dir + "/look.png";
  const std::string picture = Picture(640, 512);
  auto post = [&](const std::string& object_key, const std::string& signature) {
    const std::string form =
        Form(Part("OSSAccessKeyId", p["oss_access_key_id"]) + Part("Signature", signature) +
             Part("policy", p["policy"]) + Part("key", object_key) + Part("x-oss-object-acl", "private") +
             Part("x-oss-forbid-overwrite", "true") + Part("success_action_status", "200") +
             Part("file", picture, "look.png"));
    return Call("POST", "/api/v1/uploads/oss", form,
                {std::string("Content-Type: multipart/form-data; boundary=") + kBoundary});
  };
  auto uploaded = post(key, p["signature"]);
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  EXPECT_TRUE(uploaded.body.empty());
  auto again = post(key, p["signature"]);
  EXPECT_EQ(again.status, 409) << "overwrite is forbidden";
  EXPECT_NE(again.body.find("<Code>FileAlreadyExists</Code>"), std::string::npos) << again.body;
  EXPECT_EQ(post(dir + "/other.png", "AAAA").status, 403) << "a forged signature";
  EXPECT_EQ(post("elsewhere/look.png", p["signature"]).status, 403) << "outside the upload dir";

  auto create = [&](const std::string& model, bool resolve) {
    std::vector<std::string> headers = {"Authorization: Bearer " + key_, "X-DashScope-Async: enable",
                                        "Content-Type: application/json"};
    if (resolve) headers.push_back("X-DashScope-OssResourceResolve: enable");
    return Call("POST", "/api/v1/services/aigc/image-generation/generation",
                json{{"model", model},
                     {"input", {{"messages", {{{"role", "user"}, {"content", {{{"image", "oss://" + key}}, {{"text", "blue"}}}}}}}}},
                     {"parameters", {{"size", "640*512"}}}}.dump(),
                headers);
  };
  auto no_header = create("wan2.7-image", false);
  EXPECT_EQ(no_header.status, 400) << no_header.body;
  EXPECT_EQ(json::parse(no_header.body)["code"], "InvalidParameter");
  auto other_model = create("wan2.7-image-pro", true);
  EXPECT_EQ(other_model.status, 400) << "the policy named wan2.7-image: " << other_model.body;
  auto ok = create("wan2.7-image", true);
  ASSERT_EQ(ok.status, 200) << ok.body;
  json done = WaitDone(json::parse(ok.body)["output"]["task_id"]);
  EXPECT_EQ(done["output"]["task_status"], "SUCCEEDED") << done.dump();

  // A base64 data: URL works as well, without any header.
  auto create_inline = [&](const std::string& size) {
    return Call("POST", "/api/v1/services/aigc/image-generation/generation",
                json{{"model", "wan2.7-image"},
                     {"input",
                      {{"messages", {{{"role", "user"}, {"content", {{{"image", DataUrl(picture)}}, {{"text", "red"}}}}}}}}},
                     {"parameters", {{"size", size}}}}.dump(),
                {"Authorization: Bearer " + key_, "X-DashScope-Async: enable", "Content-Type: application/json"});
  };
  auto inline_image = create_inline("640*512");
  ASSERT_EQ(inline_image.status, 200) << inline_image.body;
  EXPECT_EQ(WaitDone(json::parse(inline_image.body)["output"]["task_id"])["output"]["task_status"], "SUCCEEDED");

  // A refused create keeps none of the data: URL files it decoded.
  auto stored_uploads = [&] {
    int count = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir_ + "/uploads")) {
      count += e.is_regular_file() && e.path().extension() != ".part";
    }
    return count;
  };
  const int before = stored_uploads();
  auto refused = create_inline("1*1");
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(stored_uploads(), before);
}

TEST_F(FilesE2E, AFilesListenerServesTheFilesApisAlone) {
  RestartServer(SIGTERM, {"--providers-testpattern-enabled", "true", "--files-listen", "127.0.0.1:0"});
  const std::string log = server_->log();
  const std::string marker = "files APIs also on ";
  const size_t at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  const size_t start = at + marker.size();
  const std::string files_base = log.substr(start, log.find_first_of(" \n", start) - start);
  ASSERT_TRUE(files_base.starts_with("http://127.0.0.1:")) << log;
  auto quota = net::Fetch({"GET", files_base + "/api/v1/files/quota", {"Authorization: Bearer " + key_}, "", 10'000});
  ASSERT_TRUE(quota.ok());
  EXPECT_EQ(quota->status, 200) << quota->body;
  auto create = net::Fetch({"POST", files_base + "/v1/images/generations",
                            {"Authorization: Bearer " + key_, "Content-Type: application/json"},
                            R"({"model":"wan-2.7-image","prompt":"x"})", 10'000});
  ASSERT_TRUE(create.ok());
  EXPECT_EQ(create->status, 404) << "only the files APIs";
}

}  // namespace
}  // namespace wanserve::e2e
