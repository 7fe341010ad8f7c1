// `wanserve models pull` against a local server with the layout of Hugging Face (and of
// ModelScope) serving small files: only what the preset loads is fetched, a broken transfer
// resumes where it stopped (in the same run and the next), a file that is not the published
// one is refused and removed, and the printed configuration starts a server.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/crypto.h"
#include "e2e_fixture.h"
#include "testing/loopback_http_server.h"

namespace wanserve::e2e {
namespace {
namespace fs = std::filesystem;

constexpr const char* kRepo = "Wan-AI/Wan2.1-T2V-1.3B";

std::string Content(char seed, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i * 7 % 251));
  return s;
}

// A release on a local server: listing (two pages, or ModelScope's shape) and files, with
// redirects to a CDN path and byte ranges, and faults a test can switch on.
class FakeRelease {
 public:
  FakeRelease() {
    files_ = {{"models_t5_umt5-xxl-enc-bf16.pth", Content('t', 300'000), true},
              {"google/umt5-xxl/spiece.model", Content('s', 5'000), false},
              {"google/umt5-xxl/tokenizer.json", Content('j', 700), false},
              {"Wan2.1_VAE.pth", Content('v', 200'000), true},
              {"diffusion_pytorch_model.safetensors", Content('d', 400'000), true},
              {"examples/i2v_input.JPG", Content('e', 90'000), true},
              {"config.json", "{}", false}};
  }

  std::string Base() const { return server_.Url(""); }
  std::vector<testing::ReceivedRequest> Requests() const { return server_.Requests(); }
  const std::string& Body(const std::string& path) const {
    for (const auto& f : files_) {
      if (f.path == path) return f.body;
    }
    throw std::runtime_error("no file " + path);
  }
  // Every answer for the VAE stops after this many bytes (0: whole).
  void BreakVaeAfter(size_t bytes) {
    std::lock_guard lock(mu_);
    break_vae_after_ = bytes;
  }
  void CorruptDit(bool corrupt) {
    std::lock_guard lock(mu_);
    corrupt_dit_ = corrupt;
  }
  void UseModelScopeLayout() { modelscope_ = true; }

 private:
  struct File {
    std::string path, body;
    bool lfs;
  };

  testing::ScriptedResponse Answer(const testing::ReceivedRequest& r) {
    std::lock_guard lock(mu_);
    const std::string hf_list = std::string("/api/models/") + kRepo + "/tree/main?recursive=true";
    if (!modelscope_ && r.target == hf_list) return HfPage(0, 3, hf_list + "&cursor=2");
    if (!modelscope_ && r.target == hf_list + "&cursor=2") return HfPage(3, files_.size(), "");
    if (modelscope_ && r.target.starts_with(std::string("/api/v1/models/") + kRepo + "/repo/files")) {
      json list = json::array();
      for (const auto& f : files_) {
        list.push_back({{"Path", f.path}, {"Size", f.body.size()}, {"Sha256", Sha256Hex(f.body)}, {"Type", "blob"}});
      }
      return {200, {{"Content-Type", "application/json"}}, json{{"Code", 200}, {"Data", {{"Files", list}}}}.dump()};
    }
    const std::string resolve = std::string("/") + (modelscope_ ? "models/" : "") + kRepo +
                                (modelscope_ ? "/resolve/master/" : "/resolve/main/");
    if (r.target.starts_with(resolve)) return {302, {{"Location", "/cdn/" + r.target.substr(resolve.size())}}, ""};
    if (r.target.starts_with("/cdn/")) return Serve(r.target.substr(5), r);
    return {404, {}, "not found"};
  }

  testing::ScriptedResponse HfPage(size_t from, size_t to, const std::string& next) const {
    json page = json::array();
    if (from == 0) page.push_back({{"type", "directory"}, {"path", "google"}, {"size", 0}});
    for (size_t i = from; i < to; ++i) {
      json e = {{"type", "file"}, {"path", files_[i].path}, {"size", files_[i].body.size()}, {"oid", "0123abcd"}};
      if (files_[i].lfs) e["lfs"] = {{"oid", Sha256Hex(files_[i].body)}, {"size", files_[i].body.size()}};
      page.push_back(e);
    }
    std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "application/json"}};
    if (!next.empty()) headers.emplace_back("Link", "<" + server_.Url(next) + ">; rel=\"next\"");
    return {200, headers, page.dump()};
  }

  testing::ScriptedResponse Serve(const std::string& path, const testing::ReceivedRequest& r) const {
    std::string body;
    for (const auto& f : files_) {
      if (f.path == path) body = f.body;
    }
    if (body.empty()) return {404, {}, "no such file"};
    if (corrupt_dit_ && path == "diffusion_pytorch_model.safetensors") body[body.size() / 2] ^= 0x5a;
    size_t start = 0;
    auto range = r.headers.find("range");
    if (range != r.headers.end()) start = std::stoul(range->second.substr(6));
    const std::string part = body.substr(start);
    const std::string head = range != r.headers.end()
                                 ? fmt::format("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {}-{}/{}\r\n", start,
                                               body.size() - 1, body.size())
                                 : std::string("HTTP/1.1 200 OK\r\n");
    if (path == "Wan2.1_VAE.pth" && break_vae_after_ > 0 && break_vae_after_ < body.size()) {
      // Promises the rest, sends only up to the break, and hangs up.
      const size_t sent = break_vae_after_ > start ? break_vae_after_ - start : 0;
      return testing::ScriptedResponse::Raw(head + fmt::format("Content-Length: {}\r\nConnection: close\r\n\r\n", part.size()) +
                                            part.substr(0, sent));
    }
    return testing::ScriptedResponse::Raw(head + fmt::format("Content-Length: {}\r\n\r\n", part.size()) + part);
  }

  std::vector<File> files_;
  mutable std::mutex mu_;
  size_t break_vae_after_ = 0;
  bool corrupt_dit_ = false;
  bool modelscope_ = false;
  testing::LoopbackHttpServer server_{[this](const testing::ReceivedRequest& r, int) { return Answer(r); }};
};

class ModelsE2E : public ServerTest {
 protected:
  testing::CommandResult Pull(const FakeRelease& release, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {testing::WanserveBinary(), "models", "pull", "wan2.1-t2v-1.3b", "--into",
                                     Into(), "--mirror", release.Base()};
    args.insert(args.end(), more.begin(), more.end());
    return testing::RunCommand(args);
  }
  std::string Into() const { return (dir_.path() / "models").string(); }
  fs::path File(const std::string& path) const { return fs::path(Into()) / "Wan2.1-T2V-1.3B" / path; }
  std::string Read(const fs::path& path) const {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static int Gets(const FakeRelease& release, const std::string& path) {
    int n = 0;
    for (const auto& r : release.Requests()) n += r.target == "/cdn/" + path ? 1 : 0;
    return n;
  }
};

TEST_F(ModelsE2E, PullFetchesWhatThePresetLoadsResumesABrokenTransferAndItsConfigurationServes) {
  FakeRelease release;
  release.BreakVaeAfter(120'000);
  auto r = Pull(release, {"--retries", "1"});
  ASSERT_EQ(r.exit_code, 1) << "the VAE breaks off on every attempt: " << r.out << r.err;
  EXPECT_NE(r.err.find("run again to resume"), std::string::npos) << r.err;
  EXPECT_EQ(fs::file_size(File("Wan2.1_VAE.pth.part")), 120'000u) << "what arrived is kept";

  release.BreakVaeAfter(0);
  r = Pull(release);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* path : {"models_t5_umt5-xxl-enc-bf16.pth", "google/umt5-xxl/spiece.model", "Wan2.1_VAE.pth",
                           "diffusion_pytorch_model.safetensors"}) {
    EXPECT_EQ(Read(File(path)), release.Body(path)) << path;
  }
  EXPECT_FALSE(fs::exists(File("Wan2.1_VAE.pth.part")));
  EXPECT_FALSE(fs::exists(File("examples/i2v_input.JPG"))) << "only what the preset loads";
  EXPECT_EQ(Gets(release, "examples/i2v_input.JPG"), 0);
  EXPECT_EQ(Gets(release, "google/umt5-xxl/tokenizer.json"), 0);
  bool resumed = false;
  for (const auto& req : release.Requests()) {
    if (req.target == "/cdn/Wan2.1_VAE.pth" && req.headers.count("range")) resumed |= req.headers.at("range") == "bytes=120000-";
  }
  EXPECT_TRUE(resumed) << "the second run asked for the rest only";
  EXPECT_NE(r.out.find("--providers-local-weights " + fs::absolute(Into()).string()), std::string::npos) << r.out;

  // A third run finds everything in place and fetches nothing.
  const int before = Gets(release, "diffusion_pytorch_model.safetensors");
  ASSERT_EQ(Pull(release).exit_code, 0);
  EXPECT_EQ(Gets(release, "diffusion_pytorch_model.safetensors"), before);

  // The configuration it printed: the server starts with the preset (routing looks at the files).
  StartServer({"--providers-local-model", "wan2.1-t2v-1.3b", "--providers-local-weights", Into()});
  auto ready = json::parse(Call("GET", "/readyz").body);
  EXPECT_EQ(ready["status"], "ready") << ready.dump();
}

TEST_F(ModelsE2E, AFileThatIsNotThePublishedOneIsRefusedAndRemoved) {
  FakeRelease release;
  release.CorruptDit(true);
  auto r = Pull(release, {"--retries", "0"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("diffusion_pytorch_model.safetensors"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("SHA-256"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(File("diffusion_pytorch_model.safetensors")));
  EXPECT_FALSE(fs::exists(File("diffusion_pytorch_model.safetensors.part"))) << "a bad download is not resumed";
}

TEST_F(ModelsE2E, AMirrorWithModelScopesLayoutServesTheSameRelease) {
  FakeRelease release;
  release.UseModelScopeLayout();
  release.BreakVaeAfter(50'000);
  std::thread heal([&release] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    release.BreakVaeAfter(0);
  });
  auto r = Pull(release, {"--layout", "modelscope"});
  heal.join();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Read(File("Wan2.1_VAE.pth")), release.Body("Wan2.1_VAE.pth")) << "resumed within the run";
  EXPECT_EQ(Read(File("google/umt5-xxl/spiece.model")), release.Body("google/umt5-xxl/spiece.model"));

  auto unknown = testing::RunCommand({testing::WanserveBinary(), "models", "pull", "wan9", "--into", Into()});
  EXPECT_EQ(unknown.exit_code, 2);
  auto tiny = testing::RunCommand({testing::WanserveBinary(), "models", "pull", "tiny", "--into", Into()});
  EXPECT_EQ(tiny.exit_code, 2);
  EXPECT_NE(tiny.err.find("random weights"), std::string::npos);
}

}  // namespace
}  // namespace wanserve::e2e
