#pragma once
// The golden checker inside the engine module (engine.h's RunGoldenSet reaches it through the
// loader).
#include "engine/engine.h"

namespace wanserve::engine {

Result<std::vector<GoldenCheck>> CheckGoldenSet(const std::string& dir, const GoldenOptions& options,
                                                const std::function<void(const GoldenCheck&)>& report);

// Sets the intra-op thread count (0 = every core of this process's affinity); returns it.
int ApplyThreads(int threads);

}  // namespace wanserve::engine
