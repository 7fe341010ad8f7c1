// engine.h's Generator: presets, weight files, the tokenizer and request defaults, all
// torch-free; the models themselves run in the engine module.
#include <cmath>
#include <random>

#include "engine/engine.h"
#include "engine/engine_api.h"
#include "engine/image_ops.h"
#include "engine/presets.h"
#include "engine/tokenizer.h"

namespace wanserve::engine {
namespace {

Error FieldError(const std::string& field, const std::string& message) {
  return MakeError(ErrorCode::kInvalidInput, field + ": " + message, field);
}

// Frames an edit window overlaps the next by, cross-faded (half a second at 16 fps).
constexpr int kWindowOverlap = 8;

// Where the windows covering `frames` start: `length` frames each, each overlapping the next by
// kWindowOverlap; the last one takes what is left.
std::vector<int> WindowStarts(int frames, int length) {
  std::vector<int> starts{0};
  while (starts.back() + length < frames) starts.push_back(starts.back() + length - kWindowOverlap);
  return starts;
}

}  // namespace

Generator::~Generator() = default;

int Generator::size_multiple() const { return SizeMultiple(*preset_); }

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
  r.strength = request.strength < 0 ? kDefaultEditStrength : request.strength;
  if (r.strength <= 0 || r.strength > 1) return FieldError("strength", "must be in (0, 1]");
  if (request.first_frame && !p.image_to_video && !p.vace) {
    return FieldError("image", p.name + " does not make video from an image");
  }
  if (!request.references.empty() && !p.vace) {
    return FieldError("references", p.name + " does not follow reference images (a VACE preset does)");
  }
  for (const auto& picture : request.references) {
    if (picture.width <= 0 || picture.height <= 0 || picture.rgb.size() != size_t(picture.width) * picture.height * 3) {
      return FieldError("references", "a reference image is empty or malformed");
    }
  }
  r.references = request.references;
  if (!request.mask.empty()) {
    if (!p.vace) return FieldError("mask", p.name + " takes no mask (a VACE preset does)");
    if (request.source.empty()) return FieldError("mask", "a mask needs a video or picture to edit");
    if (request.mask.size() != 1 && request.mask.size() != request.source.size()) {
      return FieldError("mask", "one mask picture, or one per frame of the source");
    }
    for (const auto& picture : request.mask) {
      if (picture.width <= 0 || picture.height <= 0 || picture.rgb.size() != size_t(picture.width) * picture.height * 3) {
        return FieldError("mask", "a mask picture is empty or malformed");
      }
    }
  }
  if (request.first_frame && !request.source.empty()) return FieldError("image", "an edit takes no first frame");
  for (const auto& picture : request.source) {
    if (picture.width <= 0 || picture.height <= 0 || picture.rgb.size() != size_t(picture.width) * picture.height * 3) {
      return FieldError("source", "a frame is empty or malformed");
    }
  }
  if (request.first_frame) r.first_frame = CoverAndCrop(*request.first_frame, r.width, r.height);

  const int text_len = p.dit.at("text_len").get<int>();
  TokenizedText prompt = tokenizer_->Encode(request.prompt, text_len);
  TokenizedText negative =
      tokenizer_->Encode(request.negative_prompt.empty() ? p.negative_prompt : request.negative_prompt, text_len);
  r.prompt_ids = std::move(prompt.ids);
  r.prompt_mask = std::move(prompt.mask);
  r.negative_ids = std::move(negative.ids);
  r.negative_mask = std::move(negative.mask);
  const int64_t seed = r.seed;
  if (!request.source.empty()) {
    std::vector<core::RgbImage> mask = request.mask;
    if (mask.size() == 1) mask.resize(request.source.size(), mask.front());
    ASSIGN_OR_RETURN(core::VideoClip clip, Edit(std::move(r), request.source, std::move(mask), on_step));
    return GeneratedVideo{std::move(clip), seed};
  }
  ASSIGN_OR_RETURN(core::VideoClip clip, runner_->Run(r, on_step));
  return GeneratedVideo{std::move(clip), seed};
}

Result<core::VideoClip> Generator::Edit(ModelRequest r, std::vector<core::RgbImage> frames,
                                       std::vector<core::RgbImage> mask, const StepFn& on_step) {
  for (auto& frame : frames) frame = CoverAndCrop(frame, r.width, r.height);
  for (auto& frame : mask) frame = CoverAndCrop(frame, r.width, r.height);
  const int total_frames = static_cast<int>(frames.size());
  const int length = std::max(1, (preset_->max_frames - 1) / 4 * 4 + 1);
  const std::vector<int> starts = WindowStarts(total_frames, length);
  core::VideoClip out;
  out.fps = preset_->fps;
  int windows_done = 0;
  for (const int start : starts) {
    const int count = std::min(length, total_frames - start);
    r.source.assign(frames.begin() + start, frames.begin() + start + count);
    if (!mask.empty()) r.mask.assign(mask.begin() + start, mask.begin() + start + count);
    // The VAE takes 1 + 4k frames: the last one repeated, and the output trimmed back.
    while ((r.source.size() - 1) % 4 != 0) {
      r.source.push_back(r.source.back());
      if (!r.mask.empty()) r.mask.push_back(r.mask.back());
    }
    ASSIGN_OR_RETURN(core::VideoClip clip, runner_->Run(r, [&](int done, int total) {
      return !on_step || on_step(windows_done * total + done, static_cast<int>(starts.size()) * total);
    }));
    clip.frames.resize(static_cast<size_t>(count));
    // The first frames of this window cross-fade from the previous window's last ones.
    const int overlap = static_cast<int>(out.frames.size()) - start;
    for (int i = 0; i < overlap; ++i) {
      core::RgbImage& kept = out.frames[static_cast<size_t>(start + i)];
      const core::RgbImage& next = clip.frames[static_cast<size_t>(i)];
      const float a = static_cast<float>(i + 1) / static_cast<float>(overlap + 1);
      for (size_t k = 0; k < kept.rgb.size(); ++k) {
        kept.rgb[k] = static_cast<uint8_t>(std::lround((1 - a) * kept.rgb[k] + a * next.rgb[k]));
      }
    }
    for (int i = std::max(overlap, 0); i < count; ++i) out.frames.push_back(std::move(clip.frames[static_cast<size_t>(i)]));
    ++windows_done;
  }
  return out;
}

}  // namespace wanserve::engine
