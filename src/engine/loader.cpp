// engine.h for the rest of wanserve: loads libwanserve_engine.so (and with it libtorch) on first
// use, so processes that never generate locally start without it.
#include <mutex>

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

Result<std::vector<GoldenCheck>> RunGoldenSet(const std::string& dir, const GoldenOptions& options,
                                              const std::function<void(const GoldenCheck&)>& report) {
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
