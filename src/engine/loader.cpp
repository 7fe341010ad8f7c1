// engine.h for the rest of wanserve: loads libwanserve_engine.so (and with it libtorch) on first
// use, so processes that never generate locally start without it.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "engine/engine_api.h"

namespace wanserve::engine {
namespace {

constexpr const char* kModuleName = "libwanserve_engine.so";

// WANSERVE_ENGINE_LIBRARY, else beside the running binary, else the loader's search path.
std::string ModulePath() {
  if (const char* path = std::getenv("WANSERVE_ENGINE_LIBRARY"); path != nullptr && *path != '\0') {
    return path;
  }
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto beside = exe.parent_path() / kModuleName;
    if (std::filesystem::exists(beside, ec)) return beside.string();
  }
  return kModuleName;
}

Result<const EngineApi*> Api() {
  static std::mutex mutex;
  static const EngineApi* loaded = nullptr;
  std::lock_guard lock(mutex);
  if (loaded != nullptr) return loaded;
  const std::string path = ModulePath();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return MakeError(ErrorCode::kUnavailable,
                     "the local engine module could not be loaded (" + path + "): " + (why ? why : "?"));
  }
  using Entry = const EngineApi* (*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, "wanserve_engine_api"));
  if (entry == nullptr) {
    return MakeError(ErrorCode::kUnavailable, path + " is not a wanserve engine module");
  }
  const EngineApi* api = entry();
  if (api == nullptr || api->version != kEngineApiVersion) {
    return MakeError(ErrorCode::kUnavailable, path + " was built for another wanserve version");
  }
  loaded = api;
  return loaded;
}

}  // namespace

Result<int> SetThreads(int threads) {
  ASSIGN_OR_RETURN(const EngineApi* api, Api());
  return api->set_threads(threads);
}

Result<std::vector<GoldenCheck>> RunGoldenSet(const std::string& dir, const GoldenOptions& options,
                                              const std::function<void(const GoldenCheck&)>& report) {
  ASSIGN_OR_RETURN(const EngineApi* api, Api());
  return api->run_golden_set(dir, options, report);
}

}  // namespace wanserve::engine
