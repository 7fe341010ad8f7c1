#include "cli/models.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "common/crypto.h"
#include "engine/presets.h"
#include "net/http_client.h"

namespace wanserve::cli {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kHuggingFace = "https://huggingface.co";
constexpr const char* kModelScope = "https://modelscope.cn";

// One file of a release as its home lists it; sha256 is empty where it publishes none (small
// files kept in git rather than LFS), and then only the size is checked.
struct RemoteFile {
  std::string path;
  int64_t size = 0;
  std::string sha256;
};

// Where releases are listed and fetched: Hugging Face's API, a mirror with its layout, or
// ModelScope's own.
struct Source {
  std::string base;
  bool modelscope = false;

  std::string ListUrl(const std::string& repo) const {
    return modelscope ? fmt::format("{}/api/v1/models/{}/repo/files?Recursive=true&Revision=master", base, repo)
                      : fmt::format("{}/api/models/{}/tree/main?recursive=true", base, repo);
  }
  std::string FileUrl(const std::string& repo, const std::string& path) const {
    return fmt::format("{}/{}{}/resolve/{}/{}", base, modelscope ? "models/" : "", repo,
                       modelscope ? "master" : "main", path);
  }
};

Source SourceFor(std::string mirror, const std::string& layout) {
  if (mirror.empty() || mirror == "huggingface") return {kHuggingFace, false};
  if (mirror == "modelscope") return {kModelScope, true};
  while (mirror.ends_with('/')) mirror.pop_back();
  return {mirror, layout == "modelscope"};
}

// The next page of a Hugging Face listing: Link: <url>; rel="next".
std::string NextPage(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("link");
  if (it == headers.end() || it->second.find("rel=\"next\"") == std::string::npos) return {};
  const auto open = it->second.find('<'), close = it->second.find('>');
  return open == std::string::npos || close == std::string::npos ? std::string()
                                                                 : it->second.substr(open + 1, close - open - 1);
}

Result<std::vector<RemoteFile>> ListRelease(const Source& source, const std::string& repo) {
  std::vector<RemoteFile> files;
  for (std::string url = source.ListUrl(repo); !url.empty();) {
    ASSIGN_OR_RETURN(const net::HttpResult listed, net::Fetch({"GET", url, {"Accept: application/json"}, "", 60'000}));
    if (listed.status != 200) {
      return MakeError(ErrorCode::kUnavailable, fmt::format("listing {} answered HTTP {}", url, listed.status));
    }
    const json body = json::parse(listed.body, nullptr, false);
    const json entries = source.modelscope && body.is_object() ? body.value("Data", json::object()).value("Files", json())
                                                               : body;
    if (!entries.is_array()) return MakeError(ErrorCode::kUnavailable, "listing " + url + " is not a file list");
    for (const json& e : entries) {
      if (!e.is_object()) continue;
      if (source.modelscope) {
        if (e.value("Type", "") != "blob") continue;
        files.push_back({e.value("Path", ""), e.value("Size", int64_t{0}), e.value("Sha256", "")});
      } else {
        if (e.value("type", "") != "file") continue;
        const json lfs = e.value("lfs", json::object());
        files.push_back({e.value("path", ""), e.value("size", int64_t{0}), lfs.is_object() ? lfs.value("oid", "") : ""});
      }
    }
    url = source.modelscope ? std::string() : NextPage(listed.headers);
  }
  return files;
}

// Whether the preset loads this file of its release (the text encoder, tokenizer, VAE, and the
// DiT's safetensors with their index in each DiT folder).
bool Needed(const engine::Preset& preset, const std::string& path) {
  if (path == preset.t5_file || path == preset.tokenizer_file || path == preset.vae_file) return true;
  const fs::path p(path);
  const std::string name = p.filename().string();
  if (!name.starts_with("diffusion_pytorch_model") ||
      !(name.ends_with(".safetensors") || name.ends_with(".safetensors.index.json"))) {
    return false;
  }
  for (const auto& dir : preset.dit_paths) {
    if (p.parent_path() == fs::path(dir == "." ? "" : dir)) return true;
  }
  return false;
}

std::string Bytes(int64_t n) {
  if (n >= (int64_t{1} << 30)) return fmt::format("{:.1f} GB", static_cast<double>(n) / (1 << 30));
  if (n >= (1 << 20)) return fmt::format("{:.1f} MB", static_cast<double>(n) / (1 << 20));
  return fmt::format("{} B", n);
}

// Bytes fetched of the whole pull: a bar redrawn in place on a terminal, a line every 5%
// otherwise (logs get no carriage returns).
class Progress {
 public:
  explicit Progress(int64_t total) : total_(std::max<int64_t>(total, 1)), tty_(::isatty(2) == 1) {}

  void Add(int64_t n) {
    done_ += n;
    const auto now = std::chrono::steady_clock::now();
    const int percent = static_cast<int>(done_ * 100 / total_);
    if (tty_ ? now - drawn_ < std::chrono::milliseconds(100) : percent < printed_ + 5) return;
    drawn_ = now;
    printed_ = percent;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done_ - resumed_) / seconds : 0;
    const std::string eta = rate > 0 ? fmt::format("{:.0f} s left", static_cast<double>(total_ - done_) / rate) : "";
    if (tty_) {
      const int filled = percent * 30 / 100;
      fmt::print(stderr, "\r[{}{}] {:>3}% {} / {}  {}/s  {}   ", std::string(static_cast<size_t>(filled), '#'),
                 std::string(static_cast<size_t>(30 - filled), '.'), percent, Bytes(done_), Bytes(total_),
                 Bytes(static_cast<int64_t>(rate)), eta);
    } else {
      fmt::print(stderr, "{}% {} / {} {}/s {}\n", percent, Bytes(done_), Bytes(total_), Bytes(static_cast<int64_t>(rate)),
                 eta);
    }
  }
  // Bytes already on disk count as done but not towards the speed.
  void Resumed(int64_t n) {
    done_ += n;
    resumed_ += n;
  }
  void Finish() {
    if (tty_) fmt::print(stderr, "\n");
  }

 private:
  int64_t total_, done_ = 0, resumed_ = 0;
  bool tty_;
  int printed_ = -5;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(), drawn_{};
};

// The published size and hash of a complete file.
Status Verify(const fs::path& path, const RemoteFile& file) {
  std::error_code ec;
  const auto size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec || size != file.size) {
    return MakeError(ErrorCode::kInvalidInput, fmt::format("{}: {} instead of the published {}", path.string(),
                                                           Bytes(ec ? 0 : size), Bytes(file.size)));
  }
  if (file.sha256.empty()) return Status::Ok();
  const auto sha = Sha256FileHex(path.string());
  if (!sha || *sha != file.sha256) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: SHA-256 {} is not the published {}", path.string(), sha.value_or("unreadable"),
                                 file.sha256));
  }
  return Status::Ok();
}

// One file into `dest` through `dest.part`, resumed from what the part holds, retried when the
// transfer breaks off; the part becomes the file only once its size and hash are right.
Status FetchFile(const Source& source, const std::string& repo, const RemoteFile& file, const fs::path& dest,
                 int retries, Progress& progress) {
  fs::create_directories(dest.parent_path());
  const fs::path part = dest.string() + ".part";
  std::error_code ec;
  int64_t have = fs::exists(part) ? static_cast<int64_t>(fs::file_size(part, ec)) : 0;
  if (have > file.size) have = 0;
  auto hash = std::make_unique<Sha256>();
  if (have > 0) {
    std::ifstream in(part, std::ios::binary);
    std::string chunk(1 << 20, '\0');
    for (int64_t left = have; left > 0;) {
      in.read(chunk.data(), static_cast<std::streamsize>(std::min<int64_t>(left, static_cast<int64_t>(chunk.size()))));
      hash->Update(std::string_view(chunk.data(), static_cast<size_t>(in.gcount())));
      left -= in.gcount();
      if (in.gcount() == 0) return MakeError(ErrorCode::kInternal, part.string() + ": cannot read");
    }
    progress.Resumed(have);
  }
  std::ofstream out(part, std::ios::binary | std::ios::app);
  const std::string url = source.FileUrl(repo, file.path);
  const int64_t delays_ms[] = {1000, 2000, 4000, 8000};
  for (int attempt = 0;; ++attempt) {
    if (have < file.size) {
      bool first = true;  // the first piece of this answer says where its body starts
      auto got = net::Download({.url = url, .offset = have, .on_data = [&](int64_t start, std::string_view piece) {
                                  if (first && start == 0 && have > 0) {  // the whole file again: start over
                                    out.close();
                                    out.open(part, std::ios::binary | std::ios::trunc);
                                    hash = std::make_unique<Sha256>();
                                    have = 0;
                                  } else if (first && start != have) {
                                    return false;
                                  }
                                  first = false;
                                  out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
                                  hash->Update(piece);
                                  have += static_cast<int64_t>(piece.size());
                                  progress.Add(static_cast<int64_t>(piece.size()));
                                  return static_cast<bool>(out) && have <= file.size;
                                }});
      out.flush();
      if (got.ok() && got->status != 200 && got->status != 206) {
        return MakeError(ErrorCode::kUnavailable,
                         fmt::format("{} answered HTTP {}: {}", url, got->status, got->error_body.substr(0, 200)));
      }
      if (!got.ok() && attempt < retries) {
        fmt::print(stderr, "\n{}: {}; resuming at {}\n", file.path, got.error().message, Bytes(have));
        std::this_thread::sleep_for(std::chrono::milliseconds(delays_ms[std::min(attempt, 3)]));
        continue;
      }
      if (!got.ok()) return MakeError(got.error().code, file.path + ": " + got.error().message + " (run again to resume)");
    }
    break;
  }
  out.close();
  const std::string sha = hash->FinalHex();
  if (have != file.size || (!file.sha256.empty() && sha != file.sha256)) {
    fs::remove(part, ec);
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: got {} with SHA-256 {}, published {} with {}; the download was removed",
                                 file.path, Bytes(have), sha, Bytes(file.size), file.sha256.empty() ? "-" : file.sha256));
  }
  fs::rename(part, dest, ec);
  if (ec) return MakeError(ErrorCode::kInternal, dest.string() + ": " + ec.message());
  return Status::Ok();
}

struct PullArgs {
  std::string preset;
  std::string into = "models";
  std::string mirror;
  std::string layout = "huggingface";
  int retries = 4;
};

int RunPull(const PullArgs& args) {
  const engine::Preset* preset = engine::FindPreset(args.preset);
  if (!preset) {
    fmt::print(stderr, "error: unknown preset {} (wanserve models list)\n", args.preset);
    return 2;
  }
  if (preset->random_weights) {
    fmt::print(stderr, "error: {} has random weights: there is nothing to pull\n", preset->name);
    return 2;
  }
  if (args.layout != "huggingface" && args.layout != "modelscope") {
    fmt::print(stderr, "error: --layout is huggingface or modelscope\n");
    return 2;
  }
  const Source source = SourceFor(args.mirror, args.layout);
  auto listed = ListRelease(source, preset->release);
  if (!listed.ok()) {
    fmt::print(stderr, "error: {}\n", listed.error().message);
    return 1;
  }
  std::vector<RemoteFile> wanted;
  for (const auto& f : *listed) {
    if (Needed(*preset, f.path)) wanted.push_back(f);
  }
  const fs::path root = fs::absolute(args.into);
  const fs::path release = root / fs::path(preset->release).filename();
  int64_t total = 0, to_fetch = 0;
  for (const auto& f : wanted) total += f.size;
  std::vector<RemoteFile> missing;
  for (const auto& f : wanted) {
    if (!fs::exists(release / f.path)) {
      missing.push_back(f);
      to_fetch += f.size;
    } else if (auto ok = Verify(release / f.path, f); !ok.ok()) {
      fmt::print(stderr, "error: {} (remove it to fetch it again)\n", ok.error().message);
      return 1;
    }
  }
  fmt::print(stderr, "{}: {} files, {} from {}/{}; {} to fetch into {}\n", preset->name, wanted.size(), Bytes(total),
             source.base, preset->release, Bytes(to_fetch), release.string());
  Progress progress(to_fetch);
  for (const auto& f : missing) {
    if (auto fetched = FetchFile(source, preset->release, f, release / f.path, args.retries, progress); !fetched.ok()) {
      progress.Finish();
      fmt::print(stderr, "error: {}\n", fetched.error().message);
      return 1;
    }
  }
  progress.Finish();
  if (auto located = engine::LocatePresetFiles(*preset, root.string()); !located.ok()) {
    fmt::print(stderr, "error: the release lacks files the preset loads: {}\n", located.error().message);
    return 1;
  }
  fmt::print("{} is in {}. Serve it with\n  wanserve serve --providers-local-model {} --providers-local-weights {}\n"
             "or in wanserve.toml:\n  [providers.local]\n  model = \"{}\"\n  weights = \"{}\"\n",
             preset->name, release.string(), preset->name, root.string(), preset->name, root.string());
  return 0;
}

int RunList() {
  fmt::print("{:<18} {:<26} {}\n", "preset", "release", "makes");
  for (const auto& name : engine::PresetNames()) {
    const engine::Preset& p = *engine::FindPreset(name);
    fmt::print("{:<18} {:<26} {}\n", p.name, p.random_weights ? "(random weights)" : p.release,
               engine::DescribeSizes(p) + (p.image_to_video ? "; image to video" : ""));
  }
  return 0;
}

}  // namespace

void AddModelsCommands(CLI::App& app, int& exit_code) {
  auto* models = app.add_subcommand("models", "The official weights of the local engine's presets");
  models->require_subcommand(1);
  models->add_subcommand("list", "The presets, where their weights come from and what they make")
      ->callback([&exit_code] { exit_code = RunList(); });
  auto args = std::make_shared<PullArgs>();
  auto* pull = models->add_subcommand(
      "pull", "Fetch a preset's official files (resumed after an interruption, size and SHA-256 checked)");
  pull->add_option("preset", args->preset, "e.g. wan2.2-ti2v-5b")->required();
  pull->add_option("--into", args->into, "folder of releases (providers.local.weights)")->capture_default_str();
  pull->add_option("--mirror", args->mirror,
                   "huggingface (default), modelscope, or the base URL of a mirror of either");
  pull->add_option("--layout", args->layout, "a mirror URL's API: huggingface or modelscope")->capture_default_str();
  pull->add_option("--retries", args->retries, "attempts to resume a file after its transfer broke off")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  pull->callback([args, &exit_code] { exit_code = RunPull(*args); });
}

}  // namespace wanserve::cli
