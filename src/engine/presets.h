#pragma once
// The models the local engine knows by name: the official Wan 2.1/2.2 text-to-video releases,
// with their shapes, files and sampling defaults as the official configs give them, and `tiny`
// (the shapes of the golden set, random weights from a seed) for tests and machines without
// real weights. Torch-free: the CLI and the provider check a weights directory before loading.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::engine {

struct Preset {
  std::string name;
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
};

const Preset* FindPreset(const std::string& name);
std::vector<std::string> PresetNames();

// Every file the preset needs, as absolute paths under `weights_dir`, after checking they are
// there. Errors: kNotFound naming every file looked for and which are missing.
struct PresetFiles {
  std::string t5, tokenizer, vae;
  std::vector<std::string> dits;
};
Result<PresetFiles> LocatePresetFiles(const Preset& preset, const std::string& weights_dir);

}  // namespace wanserve::engine
