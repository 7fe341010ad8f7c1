#pragma once
// Timings of the engine's kernels for bench/engine_bench.sh. Lives in the module (it needs the
// models); the figures cross to the CLI as plain numbers.
#include <vector>

#include "engine/engine.h"
#include "engine/presets.h"

namespace wanserve::engine {

// `tiny` gives the small shapes: the preset the demo and the tests run.
Result<std::vector<BenchFigure>> MeasureEngine(const Preset& tiny, int repeats);
// Writes the mid-size DiT's random weights (float32 safetensors) for the loading measurement.
Status WriteMidDitWeights(const std::string& path);
// Loads `path` as DiT weights for the mid-size shapes, building the model; the bytes loaded.
Result<int64_t> LoadMidDit(const std::string& path);

}  // namespace wanserve::engine
