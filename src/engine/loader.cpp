// engine.h for the rest of wanserve: loads libwanserve_engine.so (and with it libtorch) on first
// use, so processes that never generate locally start without it.
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/crypto.h"

#include "engine/engine_api.h"
#include "engine/module_loader.h"

namespace wanserve::engine {

Result<const EngineApi*> LoadEngineApi() {
  static std::mutex mutex;
  static const EngineApi* loaded = nullptr;
  std::lock_guard lock(mutex);
  if (loaded != nullptr) return loaded;
  ASSIGN_OR_RETURN(const void* table,
                   OpenModule("libwanserve_engine.so", "WANSERVE_ENGINE_LIBRARY", "wanserve_engine_api"));
  const auto* api = static_cast<const EngineApi*>(table);
  if (api->version != kEngineApiVersion) {
    return MakeError(ErrorCode::kUnavailable, "libwanserve_engine.so was built for another wanserve version");
  }
  loaded = api;
  return loaded;
}

Result<int> SetThreads(int threads) {
  ASSIGN_OR_RETURN(const EngineApi* api, LoadEngineApi());
  return api->set_threads(threads);
}

namespace {

// A set may use files of a sibling set (manifest "referenced_files", paths relative to the set):
// each must still be the file the set was made with.
Status CheckReferencedFiles(const std::string& dir) {
  std::ifstream in(std::filesystem::path(dir) / "manifest.json");
  if (!in) return Status::Ok();  // the module reports a missing manifest
  const nlohmann::json manifest = nlohmann::json::parse(in, nullptr, false);
  if (!manifest.is_object() || !manifest.contains("referenced_files")) return Status::Ok();
  for (const auto& [name, pin] : manifest["referenced_files"].items()) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    if (ec) return MakeError(ErrorCode::kNotFound, "golden set: referenced file " + path + " is missing");
    const auto sha = Sha256FileHex(path);
    if (bytes != pin.value("bytes", uint64_t{0}) || !sha || *sha != pin.value("sha256", "")) {
      return MakeError(ErrorCode::kInvalidInput,
                       "golden set: referenced file " + path + " is not the one the set was made with (size or SHA-256)");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<GoldenCheck>> RunGoldenSet(const std::string& dir, const GoldenOptions& options,
                                              const std::function<void(const GoldenCheck&)>& report) {
  RETURN_IF_ERROR(CheckReferencedFiles(dir));
  ASSIGN_OR_RETURN(const EngineApi* api, LoadEngineApi());
  return api->run_golden_set(dir, options, report);
}

Result<std::vector<BenchFigure>> RunEngineBench(int repeats) {
  ASSIGN_OR_RETURN(const EngineApi* api, LoadEngineApi());
  return api->measure(*FindPreset("tiny"), repeats);
}

Status WriteBenchWeights(const std::string& path) {
  ASSIGN_OR_RETURN(const EngineApi* api, LoadEngineApi());
  return api->write_bench_weights(path);
}

Result<int64_t> LoadBenchWeights(const std::string& path) {
  ASSIGN_OR_RETURN(const EngineApi* api, LoadEngineApi());
  return api->load_bench_weights(path);
}

}  // namespace wanserve::engine
