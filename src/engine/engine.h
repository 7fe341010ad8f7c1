#pragma once
// The local Wan engine's public face. Nothing here names a libtorch type: the rest of wanserve
// (CLI, providers) talks to the engine through these declarations only. The engine itself lives
// in libwanserve_engine.so, loaded on first use (see loader.cpp); every call fails with
// kUnavailable, naming the file, when it cannot be loaded.
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::engine {

// Sets the intra-op thread count; 0 means every core this process may run on. Debian's libtorch
// otherwise defaults to one thread. Returns the count in effect.
Result<int> SetThreads(int threads);

// One compared tensor of a golden case.
struct GoldenCheck {
  std::string case_name;
  std::string tensor;  // e.g. "output.y.0"; empty when the case failed before comparing
  double max_abs_error = 0;
  double tolerance = 0;
  bool passed = false;
  std::string message;  // why a case could not run, empty otherwise
};

struct GoldenOptions {
  // Only cases whose name contains one of these (all when empty).
  std::vector<std::string> only;
};

// Runs every case of <dir>/manifest.json (the format of ../shared/golden/wan) and reports each
// compared tensor through `report` as it is checked. The component of a case is recognised from
// its config, so other sets in the same format run unchanged. Errors: unreadable manifest.
Result<std::vector<GoldenCheck>> RunGoldenSet(const std::string& dir, const GoldenOptions& options,
                                              const std::function<void(const GoldenCheck&)>& report);

}  // namespace wanserve::engine
