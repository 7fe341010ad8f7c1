#pragma once
// The generation pipelines of the official Wan code: text to video (text2video.py of Wan 2.1 and
// 2.2, the text-to-video path of Wan 2.2's textimage2video.py): UMT5 on the prompt and the
// negative prompt, seeded noise, the flow sampler with classifier-free guidance on one DiT or on
// the two A14B experts switched at the boundary timestep, then the VAE decode; image to video
// (WanTI2V.i2v: the image's latent held as frame 0, whose tokens get timestep 0); and SDEdit
// (diffusers' video-to-video method on these components: the source's latent noised to the
// first kept step of the schedule, the remaining steps run); and VACE (WanVace.generate: the
// text-to-video loop on a VACE DiT that reads the VACE context at every step).
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
  // SDEdit: the run starts at this step of the schedule (SdeditBeginIndex), from the source's
  // latent noised to it (NoisedTo).
  int begin_index = 0;
  // Image to video (TI2V): latent frame 0 is held at this latent [C, 1, h, w] before the first
  // step and after each, and its tokens get timestep 0.
  at::Tensor first_frame;
  // VACE (WanVace.generate): the context [96, F, h, w] (BuildVaceContext), the same for the
  // conditional and the unconditional pass, and the scale of its hints.
  at::Tensor vace_context;
  double vace_scale = 1.0;
};

// Runs the sampler from `latent` ([C, F, H, W]: noise, the noised source for SDEdit, frame 0
// replaced for image to video); `experts` holds one DiT, or the high-noise expert then the
// low-noise one. `after_step(done)` returning false stops early (kCanceled).
Result<at::Tensor> Denoise(const std::vector<const WanDiT*>& experts, at::Tensor latent,
                           const at::Tensor& context, const at::Tensor& context_null,
                           const DenoiseSettings& settings, const std::function<bool(int)>& after_step);

// The padded token count text2video.py computes for a latent [C, F, H, W].
int64_t SequenceLength(const DitConfig& config, at::IntArrayRef latent_shape);

// add_noise of the flow schedulers: (1 - sigma) x0 + sigma noise, in float32.
at::Tensor NoisedTo(const at::Tensor& x0, const at::Tensor& noise, float sigma);
// The latent start of image to video: the noise with frame 0 replaced by the image's latent.
at::Tensor WithFirstFrame(const at::Tensor& noise, const at::Tensor& first_frame);
// Per-token timesteps [1, seq_len] of image to video: 0 on the tokens of latent frame 0, t on
// every other token and on the padding.
at::Tensor FirstFrameTimesteps(int64_t t, const DitConfig& config, at::IntArrayRef latent_shape, int64_t seq_len,
                               at::Device device);
// Frames as the official loaders hand them over: [3, F, H, W], value = u8 / 127.5 - 1.
at::Tensor FramesToTensor(const std::vector<core::RgbImage>& frames);
// A picture as WanTI2V.i2v prepares it: [3, 1, H, W], (u8 / 255 - 0.5) / 0.5.
at::Tensor ImageToTensor(const core::RgbImage& image);

// The device and compute dtype GeneratorOptions::device and ::precision name.
Result<Placement> ResolvePlacement(const std::string& device, const std::string& precision);

// Loads the preset's models onto the placement the options name; a file not given takes its
// tensors from `random` (by default: drawn from options.weight_seed, as tiny does).
Result<std::shared_ptr<ModelRunner>> OpenModel(const Preset& preset, const PresetFiles& files,
                                               const GeneratorOptions& options, const Weights* random = nullptr);

}  // namespace wanserve::engine
