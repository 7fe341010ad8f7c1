// The golden checker: runs each case of a manifest on the engine's components and compares
// every reference output.
#include <c10/util/Exception.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "engine/dit.h"
#include "engine/image_ops.h"
#include "engine/golden.h"
#include "engine/pipeline.h"
#include "engine/vace.h"
#include "engine/safetensors.h"
#include "engine/sampler.h"
#include "engine/t5.h"
#include "engine/vae.h"
#include "engine/weights.h"

namespace wanserve::engine {
namespace {
namespace fs = std::filesystem;
using Outputs = std::map<std::string, at::Tensor>;

// A failed step ends the case; the runner reports the message as the case's failure.
template <typename T>
T Unwrap(Result<T> result) {
  TORCH_CHECK(result.ok(), result.ok() ? "" : result.error().message);
  return std::move(result).value();
}

// A case's inputs and reference outputs, read from its io file.
class CaseIo {
 public:
  static Result<CaseIo> Open(const fs::path& path, at::Device device) {
    ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(path.string()));
    CaseIo io;
    io.file_ = std::move(file);
    io.device_ = device;
    return io;
  }
  // On the CPU, as stored (references and constants).
  at::Tensor Get(const std::string& name) const { return Unwrap(file_->Read(name)); }
  // On the device the case runs on (inputs).
  at::Tensor In(const std::string& name) const { return Get(name).to(device_); }
  bool Has(const std::string& name) const { return file_->Contains(name); }
  // A Python list stored as name.0, name.1, ...
  std::vector<at::Tensor> List(const std::string& name) const {
    std::vector<at::Tensor> items;
    for (int i = 0; Has(name + "." + std::to_string(i)); ++i) {
      items.push_back(In(name + "." + std::to_string(i)));
    }
    return items;
  }
  std::vector<std::string> Names(const std::string& prefix) const {
    std::vector<std::string> names;
    for (const auto& [name, entry] : file_->entries()) {
      if (name.starts_with(prefix)) names.push_back(name);
    }
    return names;
  }

 private:
  std::shared_ptr<SafetensorsFile> file_;
  at::Device device_ = at::kCPU;
};

Weights LoadWeights(const fs::path& dir, const nlohmann::json& files, size_t index) {
  TORCH_CHECK(files.is_array() && files.size() > index, "case names too few weight files");
  return Unwrap(Weights::Load((dir / files[index].get<std::string>()).string()));
}

void AddList(Outputs& out, const std::string& name, const std::vector<at::Tensor>& items) {
  for (size_t i = 0; i < items.size(); ++i) out[name + "." + std::to_string(i)] = items[i];
}

Outputs RunDit(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const DitConfig config = Unwrap(DitConfig::FromJson(c.at("config")));
  const Weights weights = LoadWeights(dir, c.at("weights"), 0);
  const WanDiT model = Unwrap(WanDiT::Create(config, weights, placement));
  std::optional<VaceInput> vace;
  if (config.vace()) vace = VaceInput{io.List("input.vace_context"), io.Get("input.vace_context_scale").item<double>()};
  Outputs out;
  AddList(out, "output.y",
          model.Forward(io.List("input.x"), io.In("input.t"), io.List("input.context"),
                        io.Get("input.seq_len").item<int64_t>(), vace ? &*vace : nullptr));
  return out;
}

Outputs RunT5(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const T5Config config = Unwrap(T5Config::FromJson(c.at("config")));
  const Weights weights = LoadWeights(dir, c.at("weights"), 0);
  const T5Encoder model = Unwrap(T5Encoder::Create(config, weights, placement));
  const at::Tensor ids = io.In("input.ids");
  const at::Tensor mask = io.In("input.mask");
  Outputs out;
  out["output.hidden"] = model.Forward(ids, mask);
  AddList(out, "output.context", model.Encode(ids, mask));
  return out;
}

VaeConfig VaeConfigFor(const nlohmann::json& c, const CaseIo& io) {
  const auto& config = c.at("config");
  const std::string component = c.value("component", "");
  const bool wan22 = config.contains("dec_dim") || component.find("Wan2.2") != std::string::npos;
  VaeConfig vae = Unwrap(VaeConfig::FromJson(config, wan22));
  // The set's own latent statistics, when it records them, take precedence.
  if (io.Has("const.mean") && io.Has("const.std")) {
    const at::Tensor mean = io.Get("const.mean").contiguous();
    const at::Tensor std = io.Get("const.std").contiguous();
    vae.mean.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
    vae.std.assign(std.data_ptr<float>(), std.data_ptr<float>() + std.numel());
  }
  return vae;
}

Outputs RunVae(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const Weights weights = LoadWeights(dir, c.at("weights"), 0);
  const WanVae vae = Unwrap(WanVae::Create(VaeConfigFor(c, io), weights, placement.device));
  Outputs out;
  out["output.z"] = vae.Encode(io.In("input.video"));
  out["output.video_unclamped"] = vae.Decode(io.In("input.z"));
  out["output.video"] = out["output.video_unclamped"].clamp(-1, 1);
  return out;
}

// The stand-in model of the sampler cases: v = 0.5 x + 0.1 (t / 1000), in float32.
at::Tensor StandIn(const at::Tensor& x, int64_t t) {
  return 0.5f * x + 0.1f * (static_cast<float>(t) / 1000.0f);
}

Outputs RunSamplers(const nlohmann::json& c, const CaseIo& io) {
  Outputs out;
  for (const auto& setting : c.at("settings")) {
    const std::string prefix = setting.at("prefix").get<std::string>();
    const std::string solver = setting.at("solver").get<std::string>();
    const SamplerKind kind = Unwrap(ParseSamplerKind(solver));
    auto sampler = MakeSampler(kind, setting.at("sampling_steps").get<int>(),
                               setting.at("shift").get<double>());
    at::Tensor x = io.Get("input.noise");
    std::vector<at::Tensor> outputs;
    std::vector<at::Tensor> trajectory{x};
    for (int64_t t : sampler->timesteps()) {
      const at::Tensor v = StandIn(x, t);
      outputs.push_back(v);
      x = sampler->Step(v.unsqueeze(0), x.unsqueeze(0)).squeeze(0);
      trajectory.push_back(x);
    }
    out[prefix + ".timesteps"] = at::tensor(sampler->timesteps(), at::kLong);
    out[prefix + ".sigmas"] = at::tensor(sampler->sigmas(), at::kFloat);
    out[prefix + ".model_outputs"] = at::stack(outputs);
    out[prefix + ".trajectory"] = at::stack(trajectory);
    out[prefix + ".final"] = x;
  }
  return out;
}

// A picture of the set ([H, W, 3] 8-bit) as the official code reads it: to_tensor, then
// (x - 0.5) / 0.5, in float32: [3, H, W] in [-1, 1].
at::Tensor PictureTensor(const at::Tensor& rgb8) {
  return (rgb8.to(at::kFloat).permute({2, 0, 1}).contiguous() / 255.0f - 0.5f) / 0.5f;
}

// The reference images of a VACE case, letterboxed to the frames' size.
std::vector<at::Tensor> VaceReferences(const CaseIo& io, Outputs& out, int64_t height, int64_t width) {
  std::vector<at::Tensor> references;
  for (size_t j = 0; io.Has("input.ref_images_rgb8." + std::to_string(j)); ++j) {
    references.push_back(LetterboxReference(PictureTensor(io.In("input.ref_images_rgb8." + std::to_string(j))), height, width));
    out["output.ref_images." + std::to_string(j)] = references.back();
  }
  return references;
}

// WanVace.prepare_source (its tensor part), vace_encode_frames, vace_encode_masks, vace_latent.
Outputs RunVaceContext(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const nlohmann::json vae_case = {{"config", c.at("config").at("vae")}, {"component", c.value("component", "")}};
  const WanVae vae = Unwrap(WanVae::Create(VaeConfigFor(vae_case, io), LoadWeights(dir, c.at("weights"), 0), placement.device));
  const at::Tensor frames = io.In("input.frames");
  Outputs out;
  out["output.mask"] = VaceMaskFromVideo(io.In("input.mask_video"));
  const std::vector<at::Tensor> references = VaceReferences(io, out, frames.size(2), frames.size(3));
  const VaceContext context = BuildVaceContext(vae, frames, out["output.mask"], references);
  out["output.z0"] = context.z0;
  out["output.m0"] = context.m0;
  out["output.z"] = context.z;
  return out;
}

// The three models of a pipeline case: UMT5, the DiT (weights 0, 1, 2) and the VAE.
struct PipelineModels {
  T5Encoder t5;
  WanDiT dit;
  WanVae vae;
};

PipelineModels LoadPipeline(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const auto& config = c.at("config");
  T5Encoder t5 = Unwrap(T5Encoder::Create(Unwrap(T5Config::FromJson(config.at("t5"))),
                                          LoadWeights(dir, c.at("weights"), 0), placement));
  WanDiT dit = Unwrap(WanDiT::Create(Unwrap(DitConfig::FromJson(config.at("dit"))),
                                     LoadWeights(dir, c.at("weights"), 1), placement));
  const nlohmann::json vae_case = {{"config", config.at("vae")}, {"component", c.value("component", "")}};
  WanVae vae = Unwrap(WanVae::Create(VaeConfigFor(vae_case, io), LoadWeights(dir, c.at("weights"), 2), placement.device));
  return {std::move(t5), std::move(dit), std::move(vae)};
}

DenoiseSettings SettingsOf(const nlohmann::json& config) {
  DenoiseSettings settings;
  settings.sampler = Unwrap(ParseSamplerKind(config.value("sample_solver", "unipc")));
  settings.steps = config.at("sampling_steps").get<int>();
  settings.shift = config.at("shift").get<double>();
  settings.guide_scale = config.at("guide_scale").get<double>();
  settings.seq_len = config.at("seq_len").get<int64_t>();
  return settings;
}

void AddLatentAndVideo(Outputs& out, const PipelineModels& m, const at::Tensor& latent) {
  out["output.latent"] = latent;
  out["output.video_unclamped"] = m.vae.Decode(latent);
  out["output.video"] = out["output.video_unclamped"].clamp(-1, 1);
}

Outputs RunT2vPipeline(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const PipelineModels m = LoadPipeline(dir, c, io, placement);
  const DenoiseSettings settings = SettingsOf(c.at("config"));
  Outputs out;
  out["output.context"] = m.t5.Encode(io.In("input.prompt_ids"), io.In("input.prompt_mask"))[0];
  out["output.context_null"] = m.t5.Encode(io.In("input.negative_ids"), io.In("input.negative_mask"))[0];
  out["output.timesteps"] = at::tensor(MakeSampler(settings.sampler, settings.steps, settings.shift)->timesteps(), at::kLong);
  const at::Tensor latent = Unwrap(Denoise({&m.dit}, io.In("input.noise"), out["output.context"],
                                           out["output.context_null"], settings, nullptr));
  AddLatentAndVideo(out, m, latent);
  return out;
}

// WanVace.generate without a mask video (everything is regenerated) and with the case's
// references: the context once, the text-to-video loop on the VACE DiT, the reference frames
// dropped before the decode.
Outputs RunVacePipeline(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const PipelineModels m = LoadPipeline(dir, c, io, placement);
  DenoiseSettings settings = SettingsOf(c.at("config"));
  Outputs out;
  out["output.context"] = m.t5.Encode(io.In("input.prompt_ids"), io.In("input.prompt_mask"))[0];
  out["output.context_null"] = m.t5.Encode(io.In("input.negative_ids"), io.In("input.negative_mask"))[0];
  out["output.timesteps"] = at::tensor(MakeSampler(settings.sampler, settings.steps, settings.shift)->timesteps(), at::kLong);
  const at::Tensor frames = io.In("input.frames");
  const at::Tensor mask = at::ones({1, frames.size(1), frames.size(2), frames.size(3)}, frames.options());
  const std::vector<at::Tensor> references = VaceReferences(io, out, frames.size(2), frames.size(3));
  out["output.vace_context"] = BuildVaceContext(m.vae, frames, mask, references).z;
  settings.vace_context = out["output.vace_context"];
  settings.vace_scale = c.at("config").value("context_scale", 1.0);
  const at::Tensor latent = Unwrap(Denoise({&m.dit}, io.In("input.noise"), out["output.context"],
                                           out["output.context_null"], settings, nullptr));
  out["output.latent"] = latent;
  const auto refs = static_cast<int64_t>(references.size());
  out["output.video_unclamped"] = m.vae.Decode(latent.narrow(1, refs, latent.size(1) - refs));
  out["output.video"] = out["output.video_unclamped"].clamp(-1, 1);
  return out;
}

// SDEdit on the official components (diffusers' strength method): the source encoded, noised to
// the first kept step, the rest of the schedule run.
Outputs RunSdedit(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement) {
  const auto& config = c.at("config");
  const PipelineModels m = LoadPipeline(dir, c, io, placement);
  DenoiseSettings settings = SettingsOf(config);
  settings.begin_index = SdeditBeginIndex(settings.steps, config.at("strength").get<double>());
  const auto sampler = MakeSampler(settings.sampler, settings.steps, settings.shift);
  const float sigma_start = sampler->sigmas()[static_cast<size_t>(settings.begin_index)];
  Outputs out;
  out["output.context"] = m.t5.Encode(io.In("input.prompt_ids"), io.In("input.prompt_mask"))[0];
  out["output.context_null"] = m.t5.Encode(io.In("input.negative_ids"), io.In("input.negative_mask"))[0];
  out["output.all_timesteps"] = at::tensor(sampler->timesteps(), at::kLong);
  out["output.all_sigmas"] = at::tensor(sampler->sigmas(), at::kFloat);
  out["output.timesteps"] = out["output.all_timesteps"].narrow(0, settings.begin_index,
                                                                settings.steps - settings.begin_index);
  out["output.sigma_start"] = at::tensor({sigma_start}, at::kFloat);
  out["output.z_video"] = m.vae.Encode(io.In("input.video"));
  out["output.latent_start"] = NoisedTo(out["output.z_video"], io.In("input.noise"), sigma_start);
  const at::Tensor latent = Unwrap(Denoise({&m.dit}, out["output.latent_start"], out["output.context"],
                                           out["output.context_null"], settings, nullptr));
  AddLatentAndVideo(out, m, latent);
  return out;
}

core::RgbImage ImageOf(const at::Tensor& rgb8) {
  const at::Tensor u8 = rgb8.to(at::kByte).contiguous();
  core::RgbImage image{static_cast<int>(u8.size(1)), static_cast<int>(u8.size(0)), {}};
  image.rgb.assign(u8.data_ptr<uint8_t>(), u8.data_ptr<uint8_t>() + u8.numel());
  return image;
}

at::Tensor Rgb8Of(const core::RgbImage& image) {
  return at::tensor(std::vector<int64_t>(image.rgb.begin(), image.rgb.end()), at::kLong)
      .view({image.height, image.width, 3});
}

// Wan2.2 TI2V image to video (WanTI2V.i2v): the picture prepared as the official code does (own
// resize checked against the set), then the pipeline from the set's prepared picture.
Outputs RunTi2vImageToVideo(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement,
                            std::map<std::string, double>& own_bounds) {
  const auto& config = c.at("config");
  const core::RgbImage picture = ImageOf(io.Get("input.image_rgb8"));
  const auto [ow, oh] = BestOutputSize(picture.width, picture.height, 32, 32, config.at("max_area").get<double>());
  const auto expected = config.at("output_size_wh").get<std::vector<int>>();
  TORCH_CHECK(ow == expected.at(0) && oh == expected.at(1), "best_output_size gave ", ow, "x", oh);
  const auto resize = config.at("resize_wh").get<std::vector<int>>();
  Outputs out;
  out["debug.image_resized_rgb8"] = Rgb8Of(LanczosResize(picture, resize.at(0), resize.at(1)));
  own_bounds["debug.image_resized_rgb8"] = 0;  // PIL's resize, to the bit
  out["input.image_preprocessed"] = ImageToTensor(CoverAndCrop(picture, ow, oh));
  own_bounds["input.image_preprocessed"] = 1e-6;

  const PipelineModels m = LoadPipeline(dir, c, io, placement);
  DenoiseSettings settings = SettingsOf(config);
  out["output.context"] = m.t5.Encode(io.In("input.prompt_ids"), io.In("input.prompt_mask"))[0];
  out["output.context_null"] = m.t5.Encode(io.In("input.negative_ids"), io.In("input.negative_mask"))[0];
  out["output.timesteps"] = at::tensor(MakeSampler(settings.sampler, settings.steps, settings.shift)->timesteps(), at::kLong);
  out["output.z_image"] = m.vae.Encode(io.In("input.image_preprocessed"));
  settings.first_frame = out["output.z_image"];
  const at::Tensor latent = Unwrap(Denoise({&m.dit}, WithFirstFrame(io.In("input.noise"), settings.first_frame),
                                           out["output.context"], out["output.context_null"], settings, nullptr));
  AddLatentAndVideo(out, m, latent);
  return out;
}

// Which component a case exercises, recognised from its config.
Outputs RunCase(const fs::path& dir, const nlohmann::json& c, const CaseIo& io, Placement placement,
                std::map<std::string, double>& own_bounds) {
  const nlohmann::json config = c.value("config", nlohmann::json::object());
  if (config.contains("dit") && config["dit"].contains("vace_layers")) return RunVacePipeline(dir, c, io, placement);
  if (config.contains("frames_fhw")) return RunVaceContext(dir, c, io, placement);
  if (c.contains("settings")) return RunSamplers(c, io);
  if (config.contains("strength")) return RunSdedit(dir, c, io, placement);
  if (config.contains("max_area")) return RunTi2vImageToVideo(dir, c, io, placement, own_bounds);
  if (config.contains("t5") && config.contains("dit")) return RunT2vPipeline(dir, c, io, placement);
  if (config.contains("patch_size")) return RunDit(dir, c, io, placement);
  if (config.contains("vocab")) return RunT5(dir, c, io, placement);
  if (config.contains("dim_mult")) return RunVae(dir, c, io, placement);
  TORCH_CHECK(false, "unrecognised component: ", c.value("component", "?"));
}

// The bound for one output: a number for all, or a per-output table (a name missing from it
// takes the entry it extends, e.g. output.context_null from output.context).
double ToleranceFor(const nlohmann::json& tolerance, const std::string& name, bool integral) {
  if (integral) return 0.0;
  const nlohmann::json bound = tolerance.value("max_abs_diff", nlohmann::json());
  if (bound.is_number()) {
    if (name.ends_with(".sigmas") && tolerance.contains("sigmas")) return 1e-7;
    return bound.get<double>();
  }
  double best = 0;
  size_t best_len = 0;
  double largest = 0;
  for (const auto& [key, value] : bound.items()) {
    if (!value.is_number()) continue;
    largest = std::max(largest, value.get<double>());
    if (name.starts_with(key) && key.size() > best_len) {
      best = value.get<double>();
      best_len = key.size();
    }
  }
  return best_len > 0 ? best : largest;
}

}  // namespace

Result<std::vector<GoldenCheck>> CheckGoldenSet(const std::string& dir, const GoldenOptions& options,
                                                const std::function<void(const GoldenCheck&)>& report) {
  const fs::path root(dir);
  std::ifstream in(root / "manifest.json");
  if (!in) return MakeError(ErrorCode::kNotFound, (root / "manifest.json").string() + ": cannot open");
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, std::string("manifest.json: ") + e.what());
  }
  if (!manifest.contains("cases") || !manifest["cases"].is_array()) {
    return MakeError(ErrorCode::kInvalidInput, "manifest.json: no cases");
  }
  if (options.precision != "float32" && options.precision != "bf16") {
    return MakeError(ErrorCode::kInvalidInput, "precision must be float32 or bf16");
  }
  const bool bf16 = options.precision == "bf16";
  ASSIGN_OR_RETURN(const Placement placement, ResolvePlacement(options.device, options.precision));
  std::vector<GoldenCheck> checks;
  auto emit = [&](GoldenCheck check) {
    report(check);
    checks.push_back(std::move(check));
  };
  for (const auto& c : manifest["cases"]) {
    const std::string name = c.value("name", "?");
    if (!options.only.empty() &&
        std::none_of(options.only.begin(), options.only.end(),
                     [&](const std::string& s) { return name.find(s) != std::string::npos; })) {
      continue;
    }
    try {
      const CaseIo io = Unwrap(CaseIo::Open(root / c.at("io").get<std::string>(), placement.device));
      std::map<std::string, double> own_bounds;
      const Outputs ours = RunCase(root, c, io, placement, own_bounds);
      // Every reference tensor that is not an input, a constant or a debug intermediate.
      // And what the case recomputes of its own inputs and intermediates (own_bounds).
      for (const std::string& tensor : io.Names("")) {
        const auto own = own_bounds.find(tensor);
        if (own == own_bounds.end() && (tensor.starts_with("input.") || tensor.starts_with("const.") || tensor.starts_with("debug."))) {
          continue;
        }
        GoldenCheck check;
        check.case_name = name;
        check.tensor = tensor;
        const at::Tensor reference = io.Get(tensor);
        const bool integral = !at::isFloatingType(reference.scalar_type());
        check.tolerance = own != own_bounds.end()
                              ? own->second
                              : ToleranceFor(c.value("tolerance", nlohmann::json::object()), tensor, integral);
        auto it = ours.find(tensor);
        if (it == ours.end()) {
          check.message = "not produced";
        } else if (it->second.sizes() != reference.sizes()) {
          check.message = "shape differs";
        } else {
          check.max_abs_error =
              (it->second.to(at::kCPU, at::kDouble) - reference.to(at::kDouble)).abs().max().item<double>();
          if (bf16 && !integral) {
            const double scale = reference.to(at::kDouble).abs().max().item<double>();
            check.tolerance = std::max(check.tolerance, kGoldenBf16Bound * scale);
          }
          check.passed = check.max_abs_error <= check.tolerance;
        }
        emit(std::move(check));
      }
    } catch (const c10::Error& e) {
      GoldenCheck check;
      check.case_name = name;
      check.message = e.what_without_backtrace();
      emit(std::move(check));
    } catch (const std::exception& e) {
      GoldenCheck check;
      check.case_name = name;
      check.message = e.what();
      emit(std::move(check));
    }
  }
  return checks;
}

}  // namespace wanserve::engine
