#pragma once
// The table of entry points the engine module (libwanserve_engine.so) exports. Torch-free, so
// the loader in the server binary can hold it without libtorch. Built by the same toolchain in
// the same tree as the binary, so C++ types cross the boundary safely; `version` guards a stale
// module left beside a newer binary.
#include "engine/engine.h"

namespace wanserve::engine {

inline constexpr int kEngineApiVersion = 1;

struct EngineApi {
  int version = kEngineApiVersion;
  int (*set_threads)(int threads) = nullptr;
  Result<std::vector<GoldenCheck>> (*run_golden_set)(
      const std::string& dir, const GoldenOptions& options,
      const std::function<void(const GoldenCheck&)>& report) = nullptr;
};

}  // namespace wanserve::engine

// The module's only exported symbol.
extern "C" const wanserve::engine::EngineApi* wanserve_engine_api();
