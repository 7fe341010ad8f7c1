// The entry point of libwanserve_engine.so.
#include "engine/bench.h"
#include "engine/cpu_allocator.h"
#include "engine/engine_api.h"
#include "engine/golden.h"
#include "engine/pipeline.h"

extern "C" __attribute__((visibility("default"))) const wanserve::engine::EngineApi*
wanserve_engine_api() {
  // Before any model allocates: every tensor of the module then comes from the cache.
  wanserve::engine::CachingCpuAllocator::Installed();
  static const wanserve::engine::EngineApi api{
      wanserve::engine::kEngineApiVersion,
      &wanserve::engine::ApplyThreads,
      &wanserve::engine::CheckGoldenSet,
      [](const wanserve::engine::Preset& preset, const wanserve::engine::PresetFiles& files,
         const wanserve::engine::GeneratorOptions& options) {
        return wanserve::engine::OpenModel(preset, files, options);
      },
      &wanserve::engine::MeasureEngine,
      &wanserve::engine::WriteMidDitWeights,
      &wanserve::engine::LoadMidDit,
  };
  return &api;
}
