// engine.h's Generator: presets, weight files, the tokenizer and request defaults, all
// torch-free; the models themselves run in the engine module.
#include <random>

#include "engine/engine.h"
#include "engine/engine_api.h"
#include "engine/presets.h"
#include "engine/tokenizer.h"

namespace wanserve::engine {
namespace {

Error FieldError(const std::string& field, const std::string& message) {
  return MakeError(ErrorCode::kInvalidInput, field + ": " + message, field);
}

}  // namespace

Generator::~Generator() = default;

int Generator::size_multiple() const {
  return preset_->vae_stride * 2;  // the VAE's compression times the DiT's 2x2 patches
}

Result<std::unique_ptr<Generator>> Generator::Open(const GeneratorOptions& options) {
  const Preset* preset = FindPreset(options.model);
  if (preset == nullptr) {
    std::string known;
    for (const auto& name : PresetNames()) known += (known.empty() ? "" : ", ") + name;
    return MakeError(ErrorCode::kUnsupportedModel,
                     "unknown local model " + options.model + " (known: " + known + ")");
  }
  RETURN_IF_ERROR(CheckPlacementNames(options.device, options.precision));
  if (options.cpu_cache_mb < 0) return MakeError(ErrorCode::kInvalidInput, "cpu_cache_mb must not be negative");
  ASSIGN_OR_RETURN(const PresetFiles files, LocatePresetFiles(*preset, options.weights_dir));
  std::unique_ptr<Generator> generator(new Generator());
  generator->preset_ = preset;
  if (preset->random_weights) {
    generator->tokenizer_ = std::make_shared<const Tokenizer>(Tokenizer::Bytes(preset->t5.at("vocab").get<int>()));
  } else {
    ASSIGN_OR_RETURN(Tokenizer tokenizer, Tokenizer::Load(files.tokenizer));
    generator->tokenizer_ = std::make_shared<const Tokenizer>(std::move(tokenizer));
  }
  ASSIGN_OR_RETURN(const EngineApi* api, LoadEngineApi());
  ASSIGN_OR_RETURN(generator->runner_, api->open_model(*preset, files, options));
  generator->placement_ = generator->runner_->placement();
  return generator;
}

Result<GeneratedVideo> Generator::Generate(const GenerateRequest& request, const StepFn& on_step) {
  const Preset& p = *preset_;
  ModelRequest r;
  r.width = request.width > 0 ? request.width : p.width;
  r.height = request.height > 0 ? request.height : p.height;
  r.frames = request.frames > 0 ? request.frames : p.frames;
  r.steps = request.steps > 0 ? request.steps : p.steps;
  r.shift = request.shift >= 0 ? request.shift : p.shift;
  r.guide_scale = request.guide_scale >= 0 ? request.guide_scale : p.guide_scale;
  r.guide_scale_high = request.guide_scale >= 0 ? request.guide_scale : p.guide_scale_high;
  r.sampler = request.sampler.empty() ? "unipc" : request.sampler;
  const int multiple = size_multiple();
  if (r.width % multiple != 0 || r.width > 4096) {
    return FieldError("width", "must be a multiple of " + std::to_string(multiple) + " up to 4096 for " + p.name);
  }
  if (r.height % multiple != 0 || r.height > 4096) {
    return FieldError("height", "must be a multiple of " + std::to_string(multiple) + " up to 4096 for " + p.name);
  }
  if ((r.frames - 1) % 4 != 0 || r.frames > 1001) return FieldError("frames", "must be 1 + 4k, at most 1001");
  if (r.steps > 1000) return FieldError("steps", "must be 1 to 1000");
  if (r.sampler != "unipc" && r.sampler != "dpm++") return FieldError("sampler", "must be unipc or dpm++");
  if (request.prompt.empty()) return FieldError("prompt", "must not be empty");
  r.seed = request.seed >= 0 ? request.seed
                             : static_cast<int64_t>(std::random_device{}() & 0x7fffffff);

  const int text_len = p.dit.at("text_len").get<int>();
  TokenizedText prompt = tokenizer_->Encode(request.prompt, text_len);
  TokenizedText negative =
      tokenizer_->Encode(request.negative_prompt.empty() ? p.negative_prompt : request.negative_prompt, text_len);
  r.prompt_ids = std::move(prompt.ids);
  r.prompt_mask = std::move(prompt.mask);
  r.negative_ids = std::move(negative.ids);
  r.negative_mask = std::move(negative.mask);
  ASSIGN_OR_RETURN(core::VideoClip clip, runner_->Run(r, on_step));
  return GeneratedVideo{std::move(clip), r.seed};
}

}  // namespace wanserve::engine
