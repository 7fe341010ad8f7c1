#pragma once
// The models the local engine knows by name: the official Wan 2.1/2.2 text-to-video releases,
// with their shapes, files, sampling defaults and the sizes they generate well as the official
// configs give them, and `tiny` (the shapes of the golden set, random weights from a seed) for
// tests and machines without real weights. Torch-free: the CLI and the provider check a
// weights directory before loading.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::engine {

// A video size class a preset was trained for: its landscape size; other aspect ratios keep
// the area.
struct SizeTier {
  std::string name;  // "480p", "720p"
  int width = 0, height = 0;
};

struct Preset {
  std::string name;
  std::string release;  // where the official files come from, e.g. "Wan-AI/Wan2.1-T2V-1.3B"
  // Constructor arguments of the official modules, read by the engine's FromJson functions.
  nlohmann::json t5, dit, vae;
  bool wan22_vae = false;
  int vae_stride = 8;  // spatial compression of the VAE; frames are compressed 4x
  // Files inside the weights directory, laid out as the official release.
  std::string t5_file, tokenizer_file, vae_file;
  // One DiT, or for Wan 2.2 A14B the high-noise expert then the low-noise expert: each a
  // directory (or file) holding a safetensors file or a sharded index.
  std::vector<std::string> dit_paths;
  // Fraction of the 1000 training timesteps at and above which the high-noise expert runs.
  double boundary = 0;
  // Sampling defaults.
  int width = 832, height = 480, frames = 81, fps = 16, steps = 50;
  double shift = 5.0;
  double guide_scale = 5.0;       // the only scale, or the low-noise expert's
  double guide_scale_high = 5.0;  // the high-noise expert's
  std::string negative_prompt;
  bool random_weights = false;  // tiny: nothing to load
  // What it generates well (the official SUPPORTED_SIZES): video tiers, the largest image,
  // the longest video in one pass.
  std::vector<SizeTier> tiers;
  int64_t max_image_pixels = 0;
  int max_frames = 81;
  bool image_to_video = false;  // TI2V: a first frame as well as text
  // Wan2.1-VACE: video edits that follow reference images, and reference to video (the DiT
  // config has vace_layers).
  bool vace = false;
  // Test presets render every size divided by this (tiny: 8), never scaled back up.
  int render_divisor = 1;
};

const Preset* FindPreset(const std::string& name);
std::vector<std::string> PresetNames();
// A configured model name as presets: "tiny" names every test preset; others name one.
// Errors: kUnsupportedModel listing the known names.
Result<std::vector<const Preset*>> ResolvePresetNames(const std::vector<std::string>& names);

// Width and height must be multiples of this (the VAE's compression times the 2x2 patches).
int SizeMultiple(const Preset& preset);
// The tiers in words, e.g. "480p (832x480), 720p (1280x720)"; for test presets their scale.
std::string DescribeSizes(const Preset& preset);

struct RenderSize {
  int width = 0, height = 0;         // what the model renders (on the preset's grid)
  int out_width = 0, out_height = 0; // what is delivered: the render, centre-cropped to this
};
// A video of `tier` shaped like width x height: that size when it lies on the grid within the
// tier's area, else the tier's area in the same aspect ratio on the grid. Errors:
// kInvalidInput on "resolution" naming the tiers the preset has.
Result<RenderSize> VideoRenderSize(const Preset& preset, const std::string& tier, int width, int height);
// Image to video from a picture of image_width x image_height: the tier's area in the picture's
// aspect ratio as WanTI2V.i2v sizes it (best_output_size on the grid). Errors as VideoRenderSize.
Result<RenderSize> ImageToVideoRenderSize(const Preset& preset, const std::string& tier, int image_width,
                                          int image_height);
// An image of exactly width x height: rendered on the grid at least that large and
// centre-cropped. Errors: kInvalidInput on "size" when it is larger than the preset makes.
Result<RenderSize> ImageRenderSize(const Preset& preset, int width, int height);
// Frames of a video of `seconds` at the preset's fps (1 + 4k, at least 5). Errors:
// kInvalidInput on "duration" past what the preset makes in one pass.
Result<int> VideoFrames(const Preset& preset, double seconds);

// Every file the preset needs, as absolute paths under `weights_dir`, after checking they are
// there. Errors: kNotFound naming every file looked for and which are missing.
struct PresetFiles {
  std::string t5, tokenizer, vae;
  std::vector<std::string> dits;
};
// `weights_dir` is the release folder itself, or a folder holding release folders named as
// the release's last path part (what `wanserve models pull` lays out).
Result<PresetFiles> LocatePresetFiles(const Preset& preset, const std::string& weights_dir);
// Bytes of the weight files (the DiT folders' safetensors included), 0 for random weights.
int64_t WeightBytes(const PresetFiles& files);

}  // namespace wanserve::engine
