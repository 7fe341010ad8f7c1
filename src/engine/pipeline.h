#pragma once
// The text-to-video pipeline of the official Wan code (text2video.py of Wan 2.1 and 2.2, the
// text-to-video path of Wan 2.2's textimage2video.py): UMT5 on the prompt and the negative
// prompt, seeded noise, the flow sampler with classifier-free guidance on one DiT or on the
// two A14B experts switched at the boundary timestep, then the VAE decode.
#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/dit.h"
#include "engine/engine_api.h"
#include "engine/sampler.h"
#include "engine/weights.h"

namespace wanserve::engine {

struct DenoiseSettings {
  SamplerKind sampler = SamplerKind::kUniPC;
  int steps = 50;
  double shift = 5.0;
  double guide_scale = 5.0;       // the only expert's, or the low-noise expert's
  double guide_scale_high = 5.0;  // the high-noise expert's
  double boundary = 0;            // fraction of 1000 timesteps; 0 with one expert
  int64_t seq_len = 0;
};

// Runs the sampler from `latent` (noise [C, F, H, W]); `experts` holds one DiT, or the
// high-noise expert then the low-noise one. `after_step(done)` returning false stops early
// (kCanceled).
Result<at::Tensor> Denoise(const std::vector<const WanDiT*>& experts, at::Tensor latent,
                           const at::Tensor& context, const at::Tensor& context_null,
                           const DenoiseSettings& settings, const std::function<bool(int)>& after_step);

// The padded token count text2video.py computes for a latent [C, F, H, W].
int64_t SequenceLength(const DitConfig& config, at::IntArrayRef latent_shape);

// The device and compute dtype GeneratorOptions::device and ::precision name.
Result<Placement> ResolvePlacement(const std::string& device, const std::string& precision);

// Loads the preset's models onto the placement the options name (random weights from
// options.weight_seed for tiny).
Result<std::shared_ptr<ModelRunner>> OpenModel(const Preset& preset, const PresetFiles& files,
                                               const GeneratorOptions& options);

}  // namespace wanserve::engine
