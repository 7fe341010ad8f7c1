#include "engine/pipeline.h"

#include <ATen/core/grad_mode.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>
#include <c10/util/Exception.h>

#include <cstring>
#include <optional>

#include "engine/cpu_allocator.h"
#include "engine/t5.h"
#include "engine/vace.h"
#include "engine/vae.h"
#include "engine/weights.h"

namespace wanserve::engine {
namespace {

// The official save path: [-1, 1] to [0, 255], rounded.
core::VideoClip ToClip(const at::Tensor& video, int fps) {
  const at::Tensor pixels =
      ((video.clamp(-1, 1) + 1) * 127.5f).round().clamp(0, 255).to(at::kByte).permute({1, 2, 3, 0}).contiguous();
  core::VideoClip clip;
  clip.fps = fps;
  const int64_t frames = pixels.size(0);
  const int height = static_cast<int>(pixels.size(1));
  const int width = static_cast<int>(pixels.size(2));
  const size_t bytes = static_cast<size_t>(width) * height * 3;
  const uint8_t* data = pixels.data_ptr<uint8_t>();
  for (int64_t f = 0; f < frames; ++f) {
    core::RgbImage image;
    image.width = width;
    image.height = height;
    image.rgb.assign(data + f * bytes, data + (f + 1) * bytes);
    clip.frames.push_back(std::move(image));
  }
  return clip;
}

at::Tensor Ids(const std::vector<int64_t>& values, at::Device device) {
  return at::tensor(values, at::kLong).unsqueeze(0).to(device);
}

std::string PlacementName(const Placement& p) {
  return p.device.str() + (p.compute == at::kBFloat16 ? " bf16" : " float32");
}

class WanRunner final : public ModelRunner {
 public:
  WanRunner(const Preset& preset, Placement placement, T5Encoder t5, std::vector<WanDiT> dits, DitConfig dit_config,
            WanVae vae)
      : preset_(preset), placement_(placement), t5_(std::move(t5)), dits_(std::move(dits)),
        dit_config_(std::move(dit_config)), vae_(std::move(vae)) {}

  std::string placement() const override { return PlacementName(placement_); }

  // What a VACE run reads (WanVace.prepare_source): the video to edit, regenerated where the
  // mask is white (everywhere without one) and followed as the reactive part; or, for reference
  // to video, a blank video (with the
  // first frame kept when there is one); the reference images letterboxed onto white.
  at::Tensor VaceContextOf(const ModelRequest& r, int frames, at::Device device) const {
    at::Tensor video;
    at::Tensor mask = at::ones({1, frames, r.height, r.width});
    if (!r.source.empty()) {
      video = FramesToTensor(r.source);
      // A mask picture loads like a frame; its first channel, in [0, 1], is the mask.
      if (!r.mask.empty()) mask = VaceMaskFromVideo(FramesToTensor(r.mask));
    } else {
      video = at::zeros({3, frames, r.height, r.width});
      if (r.first_frame) {
        video.narrow(1, 0, 1).copy_(FramesToTensor({*r.first_frame}));
        mask.narrow(1, 0, 1).zero_();
      }
    }
    std::vector<at::Tensor> references;
    for (const auto& picture : r.references) {
      references.push_back(LetterboxReference(ImageToTensor(picture).squeeze(1), r.height, r.width).to(device));
    }
    return BuildVaceContext(vae_, video.to(device), mask.to(device), references).z;
  }

  Result<core::VideoClip> Run(const ModelRequest& r, const StepFn& on_step) override {
    // The cache serves one generation's repeated shapes; between tasks it holds nothing.
    struct ReleaseAfter {
      ~ReleaseAfter() { CachingCpuAllocator::Installed().Release(); }
    } release_after;
    try {
      at::NoGradGuard no_grad;
      ASSIGN_OR_RETURN(const SamplerKind kind, ParseSamplerKind(r.sampler));
      if (r.first_frame && dit_config_.model_type != "ti2v" && !dit_config_.vace()) {
        return MakeError(ErrorCode::kInvalidInput, preset_.name + " does not make video from an image");
      }
      if (!r.references.empty() && !dit_config_.vace()) {
        return MakeError(ErrorCode::kInvalidInput, preset_.name + " does not follow reference images");
      }
      const int frames = r.source.empty() ? r.frames : static_cast<int>(r.source.size());
      const int64_t z_dim = dit_config_.in_dim;
      // VACE: one latent frame in front per reference image.
      const auto references = dit_config_.vace() ? static_cast<int64_t>(r.references.size()) : 0;
      const std::vector<int64_t> shape{z_dim, references + (frames - 1) / 4 + 1, r.height / preset_.vae_stride,
                                       r.width / preset_.vae_stride};
      // Drawn on the CPU whatever the device, so a seed makes the same video on every machine
      // (the official code draws on the device's own generator, whose streams differ).
      auto generator = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(r.seed));
      const at::Device device = placement_.device;
      const at::Tensor noise = at::randn(shape, generator, at::TensorOptions().dtype(at::kFloat)).to(device);

      const at::Tensor context = t5_.Encode(Ids(r.prompt_ids, device), Ids(r.prompt_mask, device))[0];
      const at::Tensor context_null = t5_.Encode(Ids(r.negative_ids, device), Ids(r.negative_mask, device))[0];
      DenoiseSettings settings;
      settings.sampler = kind;
      settings.steps = r.steps;
      settings.shift = r.shift;
      settings.guide_scale = r.guide_scale;
      settings.guide_scale_high = r.guide_scale_high;
      settings.boundary = preset_.boundary;
      settings.seq_len = SequenceLength(dit_config_, shape);
      at::Tensor latent = noise;
      if (dit_config_.vace()) {
        settings.vace_context = VaceContextOf(r, frames, device);
      } else if (!r.source.empty()) {
        const at::Tensor x0 = vae_.Encode(FramesToTensor(r.source).to(device));
        settings.begin_index = SdeditBeginIndex(r.steps, r.strength);
        latent = NoisedTo(x0, noise, MakeSampler(kind, r.steps, r.shift)->sigmas()[settings.begin_index]);
      } else if (r.first_frame) {
        settings.first_frame = vae_.Encode(ImageToTensor(*r.first_frame).to(device));
        latent = WithFirstFrame(noise, settings.first_frame);
      }
      std::vector<const WanDiT*> experts;
      for (const auto& dit : dits_) experts.push_back(&dit);
      const int total = r.steps - settings.begin_index + 1;
      ASSIGN_OR_RETURN(latent, Denoise(experts, latent, context, context_null, settings,
                                       [&](int done) { return !on_step || on_step(done, total); }));
      const at::Tensor video = vae_.Decode(latent.narrow(1, references, latent.size(1) - references)).to(at::kCPU);
      if (on_step && !on_step(total, total)) return MakeError(ErrorCode::kCanceled, "canceled");
      return ToClip(video, preset_.fps);
    } catch (const c10::Error& e) {
      return MakeError(ErrorCode::kInternal, std::string("engine: ") + e.what_without_backtrace());
    }
  }

 private:
  const Preset& preset_;
  Placement placement_;
  T5Encoder t5_;
  std::vector<WanDiT> dits_;
  DitConfig dit_config_;
  WanVae vae_;
};

// Tensors stay as stored (views of the files) until each model converts them to its placement,
// so a bf16 checkpoint is never widened whole, nor a float32 one narrowed whole.
Result<Weights> LoadOrRandom(const std::string& path, const Weights& random) {
  if (path.empty()) return random;
  return Weights::Load(path, kStoredDtype);
}

}  // namespace

int64_t SequenceLength(const DitConfig& config, at::IntArrayRef latent_shape) {
  const auto& p = config.patch_size;
  return (latent_shape[1] / p[0]) * (latent_shape[2] / p[1]) * (latent_shape[3] / p[2]);
}

at::Tensor NoisedTo(const at::Tensor& x0, const at::Tensor& noise, float sigma) {
  return (1.0f - sigma) * x0 + sigma * noise;
}

at::Tensor WithFirstFrame(const at::Tensor& noise, const at::Tensor& first_frame) {
  at::Tensor latent = noise.clone();
  latent.narrow(1, 0, 1).copy_(first_frame);
  return latent;
}

at::Tensor FirstFrameTimesteps(int64_t t, const DitConfig& config, at::IntArrayRef latent_shape, int64_t seq_len,
                               at::Device device) {
  const auto& p = config.patch_size;
  const int64_t per_frame = (latent_shape[2] / p[1]) * (latent_shape[3] / p[2]);
  at::Tensor tokens = at::full({1, seq_len}, static_cast<float>(t), at::TensorOptions().dtype(at::kFloat));
  tokens.narrow(1, 0, std::min(per_frame, seq_len)).zero_();
  return tokens.to(device);
}

at::Tensor FramesToTensor(const std::vector<core::RgbImage>& frames) {
  TORCH_CHECK(!frames.empty(), "no frames");
  const int64_t h = frames[0].height, w = frames[0].width;
  at::Tensor u8 = at::empty({static_cast<int64_t>(frames.size()), h, w, 3}, at::kByte);
  for (size_t f = 0; f < frames.size(); ++f) {
    TORCH_CHECK(frames[f].width == w && frames[f].height == h, "frames of different sizes");
    std::memcpy(u8[static_cast<int64_t>(f)].data_ptr<uint8_t>(), frames[f].rgb.data(), frames[f].rgb.size());
  }
  return u8.permute({3, 0, 1, 2}).to(at::kFloat) / 127.5f - 1.0f;
}

at::Tensor ImageToTensor(const core::RgbImage& image) {
  at::Tensor u8 = at::empty({image.height, image.width, 3}, at::kByte);
  std::memcpy(u8.data_ptr<uint8_t>(), image.rgb.data(), image.rgb.size());
  return ((u8.permute({2, 0, 1}).to(at::kFloat) / 255.0f - 0.5f) / 0.5f).unsqueeze(1);
}

Result<at::Tensor> Denoise(const std::vector<const WanDiT*>& experts, at::Tensor latent,
                           const at::Tensor& context, const at::Tensor& context_null,
                           const DenoiseSettings& s, const std::function<bool(int)>& after_step) {
  TORCH_CHECK(!experts.empty() && experts.size() <= 2, "one DiT or two experts");
  auto sampler = MakeSampler(s.sampler, s.steps, s.shift);
  sampler->SetBeginIndex(static_cast<size_t>(s.begin_index));
  const double boundary = s.boundary * 1000.0;
  const bool hold_first = s.first_frame.defined();
  std::optional<VaceInput> vace;
  if (s.vace_context.defined()) vace = VaceInput{{s.vace_context}, s.vace_scale};
  int done = 0;
  const auto& timesteps = sampler->timesteps();
  for (size_t i = static_cast<size_t>(s.begin_index); i < timesteps.size(); ++i) {
    const int64_t t = timesteps[i];
    const bool high = experts.size() == 2 && static_cast<double>(t) >= boundary;
    const WanDiT& dit = experts.size() == 2 && !high ? *experts[1] : *experts[0];
    const float guide = static_cast<float>(high ? s.guide_scale_high : s.guide_scale);
    const at::Tensor timestep =
        hold_first ? FirstFrameTimesteps(t, dit.config(), latent.sizes(), s.seq_len, latent.device())
                   : at::full({1}, static_cast<float>(t), latent.options().dtype(at::kFloat));
    const VaceInput* v_in = vace ? &*vace : nullptr;
    const at::Tensor cond = dit.Forward({latent}, timestep, {context}, s.seq_len, v_in)[0];
    const at::Tensor uncond = dit.Forward({latent}, timestep, {context_null}, s.seq_len, v_in)[0];
    const at::Tensor v = uncond + guide * (cond - uncond);
    latent = sampler->Step(v.unsqueeze(0), latent.unsqueeze(0)).squeeze(0);
    if (hold_first) latent = WithFirstFrame(latent, s.first_frame);
    if (after_step && !after_step(++done)) return MakeError(ErrorCode::kCanceled, "canceled");
  }
  return latent;
}

Result<Placement> ResolvePlacement(const std::string& device, const std::string& precision) {
  RETURN_IF_ERROR(CheckPlacementNames(device, precision));
  Placement p;
  if (device == "auto") {
    if (at::hasCUDA()) p.device = at::Device(at::kCUDA, 0);
  } else {
    p.device = at::Device(device);
  }
  if (p.device.is_cuda()) {
    const int count = at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0;
    if (count == 0) {
      return MakeError(ErrorCode::kUnavailable,
                       "device " + device + ": the engine's libtorch " + TORCH_VERSION +
                           " has no CUDA or sees no CUDA device (build against a CUDA libtorch, see docs/engine.md)");
    }
    if (p.device.has_index() && p.device.index() >= count) {
      return MakeError(ErrorCode::kUnavailable,
                       "device " + device + ": only " + std::to_string(count) + " CUDA device(s) visible");
    }
    if (!p.device.has_index()) p.device = at::Device(at::kCUDA, 0);
  }
  const bool bf16 = precision == "bf16" || (precision == "auto" && p.device.is_cuda());
  p.compute = bf16 ? at::kBFloat16 : at::kFloat;
  return p;
}

Result<std::shared_ptr<ModelRunner>> OpenModel(const Preset& preset, const PresetFiles& files,
                                               const GeneratorOptions& options, const Weights* random_weights) {
  try {
    ASSIGN_OR_RETURN(const Placement placement, ResolvePlacement(options.device, options.precision));
    CachingCpuAllocator::Installed().SetLimit(static_cast<size_t>(options.cpu_cache_mb) << 20);
    const Weights random = random_weights ? *random_weights : Weights::Random(options.weight_seed);
    ASSIGN_OR_RETURN(const T5Config t5_config, T5Config::FromJson(preset.t5));
    ASSIGN_OR_RETURN(const Weights t5_weights, LoadOrRandom(files.t5, random));
    ASSIGN_OR_RETURN(T5Encoder t5, T5Encoder::Create(t5_config, t5_weights, placement, options.offload_text_encoder));

    ASSIGN_OR_RETURN(const DitConfig dit_config, DitConfig::FromJson(preset.dit));
    std::vector<WanDiT> dits;
    const std::vector<std::string> dit_files =
        files.dits.empty() ? std::vector<std::string>(std::max<size_t>(1, preset.dit_paths.size()), "") : files.dits;
    for (const auto& file : dit_files) {
      ASSIGN_OR_RETURN(const Weights weights, LoadOrRandom(file, random));
      ASSIGN_OR_RETURN(WanDiT dit, WanDiT::Create(dit_config, weights, placement));
      dits.push_back(std::move(dit));
    }

    ASSIGN_OR_RETURN(const VaeConfig vae_config, VaeConfig::FromJson(preset.vae, preset.wan22_vae));
    ASSIGN_OR_RETURN(const Weights vae_weights, LoadOrRandom(files.vae, random));
    ASSIGN_OR_RETURN(WanVae vae, WanVae::Create(vae_config, vae_weights, placement.device));
    return std::shared_ptr<ModelRunner>(std::make_shared<WanRunner>(preset, placement, std::move(t5), std::move(dits),
                                                                    dit_config, std::move(vae)));
  } catch (const c10::Error& e) {
    return MakeError(ErrorCode::kInternal, std::string("engine: ") + e.what_without_backtrace());
  }
}

}  // namespace wanserve::engine
