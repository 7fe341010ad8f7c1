#pragma once
// The local Wan engine's public face. Nothing here names a libtorch type: the rest of wanserve
// (CLI, providers) talks to the engine through these declarations only. The engine itself lives
// in libwanserve_engine.so, loaded on first use (see loader.cpp); every call fails with
// kUnavailable, naming the file, when it cannot be loaded.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "core/media_types.h"

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
  // Where the cases run: "cpu", "cuda", "cuda:N" or "auto" (GeneratorOptions).
  std::string device = "cpu";
  // "float32", the precision the sets' tolerances are for, or "bf16" (the models' matrix
  // products in bfloat16, as on a GPU in production), checked against kGoldenBf16Bound.
  std::string precision = "float32";
};

// In bf16 a tensor passes when its error is within this share of the reference's largest
// magnitude (or within the set's own float32 tolerance, if larger); see docs/engine.md for what
// bf16 measured against it.
inline constexpr double kGoldenBf16Bound = 0.05;

// Runs every case of <dir>/manifest.json (the format of ../shared/golden/wan) and reports each
// compared tensor through `report` as it is checked. The component of a case is recognised from
// its config, so other sets in the same format run unchanged. Errors: unreadable manifest.
Result<std::vector<GoldenCheck>> RunGoldenSet(const std::string& dir, const GoldenOptions& options,
                                              const std::function<void(const GoldenCheck&)>& report);

}  // namespace wanserve::engine

namespace wanserve::engine {

// Called after each denoising step (and once more after the VAE decode) with the steps done
// and the total; returning false cancels the run, which then fails with kCanceled.
using StepFn = std::function<bool(int done, int total)>;

struct GeneratorOptions {
  std::string model = "tiny";  // a preset name (presets.h)
  std::string weights_dir;     // laid out as the official release; unused by tiny
  uint64_t weight_seed = 0;    // tiny: the seed its random weights are drawn from
  // "cpu", "cuda" or "cuda:N"; "auto" is the first CUDA device where the engine's libtorch
  // has CUDA and sees a device, else the CPU.
  std::string device = "auto";
  // "float32" or "bf16" (matrix products in bfloat16, as the official GPU inference); "auto"
  // is bf16 on CUDA and float32 on the CPU.
  std::string precision = "auto";
  // Freed CPU blocks of 1 MiB and more the engine keeps for the next step to reuse, at most
  // this many MiB (one limit per process: the last model opened sets it); 0 keeps none.
  int64_t cpu_cache_mb = 512;
  // On a GPU, keep UMT5-XXL (11 GB in bf16) in host memory and upload it a block at a time for
  // each prompt, so device memory holds the DiT and VAE only (the official --t5_cpu/offload).
  bool offload_text_encoder = false;
};

// How much of the schedule an edit runs again when the request does not say (see
// docs/engine.md: the source's share of the starting latent at each strength).
inline constexpr double kDefaultEditStrength = 0.6;

// Zero or negative fields take the preset's defaults.
struct GenerateRequest {
  std::string prompt;
  std::string negative_prompt;  // empty: the official default negative prompt
  int width = 0, height = 0;
  int frames = 0;  // 1 + 4k; 1 makes an image
  int steps = 0;
  double guide_scale = -1;
  double shift = -1;
  int64_t seed = -1;  // -1: a random seed, reported in GeneratedVideo
  std::string sampler = "unipc";  // or "dpm++"
  // Edit (SDEdit): the video to restyle, at the preset's fps, or one picture. Each frame is
  // scaled to cover width x height and centre-cropped; the result has as many frames, and a
  // video longer than the preset makes in one pass is edited in overlapping windows.
  std::vector<core::RgbImage> source;
  // How much of the schedule an edit runs again, in (0, 1]: lower keeps more of the source.
  // -1: kDefaultEditStrength.
  double strength = -1;
  // Image to video (presets that make it): the first frame, scaled and cropped likewise. On a
  // VACE preset, the frame the video starts from (reference to video).
  std::optional<core::RgbImage> first_frame;
  // VACE presets: reference images, in order (the prompt's "Image 1" is the first), each
  // letterboxed onto a white frame. With `source` the edit follows them; without, they make a
  // video of `frames` frames (reference to video).
  std::vector<core::RgbImage> references;
  // VACE presets, with `source`: what to regenerate (white) and what to keep (black), one
  // picture for every frame or one per frame (in- and outpainting); empty: everything.
  std::vector<core::RgbImage> mask;
};

struct GeneratedVideo {
  core::VideoClip clip;  // frames as 8-bit RGB
  int64_t seed = 0;      // the seed used
};

// Whether `device` and `precision` are names the engine knows (see GeneratorOptions), so a
// configuration can be refused at start-up; whether such a device exists is known only once
// the engine loads. kInvalidInput naming the field otherwise.
Status CheckPlacementNames(const std::string& device, const std::string& precision);

class ModelRunner;
class Tokenizer;
struct ModelRequest;
struct Preset;

// A model loaded once and run for many requests, one at a time.
class Generator {
 public:
  // Errors: kUnsupportedModel (unknown preset, listing the known ones), kNotFound (weights
  // missing, naming every file looked for), kUnavailable (engine module), kInvalidInput (bad
  // weights: the first missing or mis-shaped tensor).
  // kInvalidInput for a device or precision it does not know, kUnavailable for CUDA where the
  // engine's libtorch has none or sees no such device.
  static Result<std::unique_ptr<Generator>> Open(const GeneratorOptions& options);
  ~Generator();

  // Text to video (or an image with frames = 1), an edit of `source`, or image to video from
  // `first_frame`. Errors: kInvalidInput naming the field (sizes must be multiples of the
  // model's patch size in pixels, frames 1 + 4k, strength in (0, 1], first_frame only on a
  // preset that makes image to video), kCanceled when `on_step` stopped it. An edit's
  // `on_step` counts the steps of every window.
  Result<GeneratedVideo> Generate(const GenerateRequest& request, const StepFn& on_step);

  const Preset& preset() const { return *preset_; }
  // Where it runs, e.g. "cuda:0 bf16" or "cpu float32".
  const std::string& placement() const { return placement_; }
  // Pixel multiple that width and height must respect (16 or 32).
  int size_multiple() const;

 private:
  Generator() = default;
  // An edit: the source in windows of at most the preset's one-pass length, overlapping and
  // cross-faded, each padded to 1 + 4k frames and trimmed back.
  Result<core::VideoClip> Edit(ModelRequest request, std::vector<core::RgbImage> frames, std::vector<core::RgbImage> mask,
                               const StepFn& on_step);
  const Preset* preset_ = nullptr;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::shared_ptr<ModelRunner> runner_;
  std::string placement_;
};

}  // namespace wanserve::engine

namespace wanserve::engine {

// One benchmark figure: the median wall time of a computation and its arithmetic (floating-point
// operations of its matrix products, 0 where not counted).
struct BenchFigure {
  std::string name;
  double seconds = 0;
  double gflop = 0;
};

// The engine benchmark (see bench/engine_bench.sh): a large matrix product as the machine's
// baseline, the tiny preset's DiT forward, VAE decode and 4-step run, and a mid-size DiT forward
// (dim 1536, 4 layers, one 480p latent frame) on random weights.
Result<std::vector<BenchFigure>> RunEngineBench(int repeats);
// For the loading measurement: writes the mid-size DiT's weights, or loads them and builds the
// model (returning the bytes of weights loaded).
Status WriteBenchWeights(const std::string& path);
Result<int64_t> LoadBenchWeights(const std::string& path);

}  // namespace wanserve::engine
