#pragma once
// The table of entry points the engine module (libwanserve_engine.so) exports. Torch-free, so
// the loader in the server binary can hold it without libtorch. Built by the same toolchain in
// the same tree as the binary, so C++ types cross the boundary safely; `version` guards a stale
// module left beside a newer binary.
#include "engine/engine.h"
#include "engine/presets.h"

#include <optional>

namespace wanserve::engine {

inline constexpr int kEngineApiVersion = 8;

// A request with every default filled in and the prompts tokenized (Generator does both).
struct ModelRequest {
  std::vector<int64_t> prompt_ids, prompt_mask, negative_ids, negative_mask;
  int width = 0, height = 0, frames = 0, steps = 0;
  double shift = 0, guide_scale = 0, guide_scale_high = 0;
  int64_t seed = 0;
  std::string sampler;
  // SDEdit: the frames to restyle, width x height each, 1 + 4k of them (empty: from noise),
  // and how much of the schedule is run again.
  std::vector<core::RgbImage> source;
  double strength = 1.0;
  // Image to video (TI2V presets): the first frame, width x height; on VACE presets the frame a
  // reference-to-video run starts from.
  std::optional<core::RgbImage> first_frame;
  // VACE presets: reference images as given (letterboxed by the runner), and the mask of an
  // edit, one picture per source frame, width x height (empty: regenerate everything).
  std::vector<core::RgbImage> references;
  std::vector<core::RgbImage> mask;
};

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;
  virtual Result<core::VideoClip> Run(const ModelRequest& request, const StepFn& on_step) = 0;
  // The device and precision it runs in, e.g. "cuda:0 bf16".
  virtual std::string placement() const = 0;
};

struct EngineApi {
  int version = kEngineApiVersion;
  int (*set_threads)(int threads) = nullptr;
  Result<std::vector<GoldenCheck>> (*run_golden_set)(
      const std::string& dir, const GoldenOptions& options,
      const std::function<void(const GoldenCheck&)>& report) = nullptr;
  Result<std::shared_ptr<ModelRunner>> (*open_model)(const Preset& preset, const PresetFiles& files,
                                                     const GeneratorOptions& options) = nullptr;
  Result<std::vector<BenchFigure>> (*measure)(const Preset& tiny, int repeats) = nullptr;
  Status (*write_bench_weights)(const std::string& path) = nullptr;
  Result<int64_t> (*load_bench_weights)(const std::string& path) = nullptr;
};

// The module's table, loaded on first use (loader.cpp). Errors: kUnavailable naming the file.
Result<const EngineApi*> LoadEngineApi();

}  // namespace wanserve::engine

// The module's only exported symbol.
extern "C" const wanserve::engine::EngineApi* wanserve_engine_api();
