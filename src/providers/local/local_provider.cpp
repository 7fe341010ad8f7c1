// The local provider: the configured presets of this machine's Wan engine. A request goes to the
// first preset that makes its kind at its size and length (engine/presets.h), is rendered at
// that preset's own size and never scaled up. Text to image and video on every preset; image and
// video edits (SDEdit: the input decoded at the preset's fps, re-noised and denoised) on every
// preset; image to video on the presets that make it (TI2V); video edits that follow reference
// images and reference to video on VACE presets. Presets are loaded on first use and
// evicted, least recently used first, when memory runs short; the engine runs one task at a time
// (a model fills the device it runs on).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <list>
#include <mutex>
#include <optional>
#include <random>

#include "engine/engine.h"
#include "engine/presets.h"
#include "media/decode.h"
#include "providers/local/engine_metrics.h"
#include "providers/provider.h"

namespace wanserve::providers {
namespace {

// What the engine makes of one request: the preset, its frame size and the frames.
struct Plan {
  const engine::Preset* preset = nullptr;
  engine::RenderSize size;
  int frames = 1;
};

// Bytes the kernel can give without swapping; -1 when unknown.
int64_t AvailableMemory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return -1;
}

core::RgbImage CropCentre(const core::RgbImage& image, int width, int height) {
  if (image.width == width && image.height == height) return image;
  core::RgbImage out;
  out.width = width;
  out.height = height;
  out.rgb.resize(static_cast<size_t>(width) * height * 3);
  const int x0 = (image.width - width) / 2, y0 = (image.height - height) / 2;
  for (int y = 0; y < height; ++y) {
    std::memcpy(&out.rgb[static_cast<size_t>(y) * width * 3],
                &image.rgb[(static_cast<size_t>(y + y0) * image.width + x0) * 3], static_cast<size_t>(width) * 3);
  }
  return out;
}

class LocalProvider final : public Provider {
 public:
  LocalProvider(LocalEngineOptions options, std::vector<const engine::Preset*> presets)
      : options_(std::move(options)),
        presets_(std::move(presets)),
        edit_strength_(options_.edit_strength > 0 ? options_.edit_strength : engine::kDefaultEditStrength) {}

  std::string_view Name() const override { return "local"; }

  Status Serves(const core::GenerationRequest& r) const override {
    auto plan = PlanFor(r);
    if (!plan.ok()) return plan.error();
    return Status::Ok();
  }

  std::vector<Capability> Capabilities(std::string_view model) const override {
    std::vector<Capability> out;
    for (core::RequestKind kind : core::KindsOfModel(model)) {
      for (const engine::Preset* preset : presets_) {
        if (!MakesKind(*preset, kind)) continue;
        out.push_back({kind, engine::DescribeSizes(*preset), preset->name});
      }
    }
    return out;
  }

  Result<core::GeneratedMedia> Run(const core::GenerationRequest& r, const media::PreparedInputs& inputs,
                                   const ProgressFn& progress, const CancelFn& canceled) override {
    ASSIGN_OR_RETURN(Plan plan, PlanFor(r));
    ASSIGN_OR_RETURN(const Sources sources, Decode(r, inputs, plan));
    // Waiting behind another task can take minutes; a cancel (or a shutdown) ends the wait.
    // Checked once more after the lock is taken: model loading comes before the first step.
    std::unique_lock lock(run_mutex_, std::defer_lock);
    while (!lock.try_lock_for(std::chrono::milliseconds(100)) && !canceled()) {
    }
    if (canceled()) return MakeError(ErrorCode::kCanceled, "canceled while waiting for the engine");
    ASSIGN_OR_RETURN(engine::Generator* generator, Loaded(*plan.preset));
    const bool video = core::IsVideo(r.kind);
    const int outputs = std::max(1, r.count);
    const int64_t base_seed = r.seed ? *r.seed : static_cast<int64_t>(std::random_device{}() & 0x7fffffff);

    core::GeneratedMedia media;
    for (int o = 0; o < outputs; ++o) {
      engine::GenerateRequest request;
      request.prompt = r.prompt;
      request.negative_prompt = r.negative_prompt;
      request.width = plan.size.width;
      request.height = plan.size.height;
      request.frames = plan.frames;
      request.seed = base_seed + o;
      request.strength = edit_strength_;
      request.source = sources.frames;
      request.first_frame = sources.first_frame;
      request.references = sources.references;
      EngineRunMeter meter(options_.metrics, plan.preset->name, generator->placement());
      auto generated = generator->Generate(request, [&](int done, int total) {
        meter.OnStep(done, total);
        progress(static_cast<int>((static_cast<int64_t>(o) * total + done) * 100 / (int64_t{outputs} * total)));
        return !canceled();
      });
      meter.Finish();
      if (!generated.ok()) {
        if (generated.error().code == ErrorCode::kCanceled) return MakeError(ErrorCode::kCanceled, "canceled by request");
        return generated.error();
      }
      core::VideoClip& clip = generated->clip;
      if (video) {
        // Kept from the input (audio_setting "origin"), cut to the output; the engine makes none.
        clip.sample_rate = sources.sample_rate;
        clip.audio = sources.audio;
        clip.audio.resize(std::min(clip.audio.size(), static_cast<size_t>(static_cast<double>(clip.frames.size()) /
                                                                          clip.fps * clip.sample_rate)));
        media.videos.push_back(std::move(clip));
      } else {
        media.images.push_back(CropCentre(clip.frames.front(), plan.size.out_width, plan.size.out_height));
      }
    }
    return media;
  }

 private:
  // What the engine is given besides the text: frames to edit, or a first frame.
  struct Sources {
    std::vector<core::RgbImage> frames;
    std::optional<core::RgbImage> first_frame;
    std::vector<core::RgbImage> references;  // VACE: the images to follow, in order
    std::vector<float> audio;
    int sample_rate = 48000;
  };

  // Reference to video on VACE presets, image to video on TI2V presets, the rest on every one.
  static bool MakesKind(const engine::Preset& preset, core::RequestKind kind) {
    if (kind == core::RequestKind::kReferenceToVideo) return preset.vace;
    return kind != core::RequestKind::kImageToVideo || preset.image_to_video;
  }

  // A video edit that follows reference images needs VACE as well.
  static bool Makes(const engine::Preset& preset, const core::GenerationRequest& r) {
    if (r.kind == core::RequestKind::kVideoEdit && !r.image_urls.empty()) return preset.vace;
    return MakesKind(preset, r.kind);
  }

  // The request's own refusals, whatever the preset.
  static Status CheckInputs(const core::GenerationRequest& r) {
    if (!r.audio_urls.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "the local engine does not take driving audio", "audio_urls");
    }
    if (r.kind == core::RequestKind::kImageEdit && r.image_urls.size() > 1) {
      return MakeError(ErrorCode::kInvalidInput,
                       "the local engine restyles one reference image; 2-4 references need a provider that uses "
                       "them (DashScope)",
                       "image_urls");
    }
    if (r.kind == core::RequestKind::kImageToVideo &&
        ((!r.generation_mode.empty() && r.generation_mode != core::kModeFirstFrame) || !r.last_frame_url.empty() ||
         !r.video_url.empty() || r.first_frame_url.empty())) {
      return MakeError(ErrorCode::kInvalidInput,
                       "the local engine makes image to video from a first frame only; a last frame or a clip to "
                       "continue needs a provider that takes them (DashScope)",
                       "generation_mode");
    }
    if (r.kind == core::RequestKind::kReferenceToVideo && !r.reference_video_urls.empty()) {
      return MakeError(ErrorCode::kInvalidInput,
                       "the local engine follows reference images (VACE); reference videos need a provider that "
                       "takes them (DashScope)",
                       "video_urls");
    }
    if (!r.voice_bindings.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "the local engine makes no sound, so it takes no voices", "audio_urls");
    }
    return Status::Ok();
  }

  Result<Plan> PlanFor(const core::GenerationRequest& r) const {
    RETURN_IF_ERROR(CheckInputs(r));
    std::string reasons;
    std::string field;
    for (const engine::Preset* preset : presets_) {
      if (!Makes(*preset, r)) continue;
      Plan plan{preset, {}, 1};
      const bool image = !core::IsVideo(r.kind);
      Result<engine::RenderSize> size = image ? engine::ImageRenderSize(*preset, r.width, r.height)
                                              : engine::VideoRenderSize(*preset, r.resolution_tier, r.width, r.height);
      Status fits = size.ok() ? Status::Ok() : Status(size.error());
      if (size.ok()) plan.size = *size;
      // An edit is as long as its input (in windows); text and image to video are one pass.
      if (fits.ok() && (r.kind == core::RequestKind::kTextToVideo || r.kind == core::RequestKind::kImageToVideo ||
                        r.kind == core::RequestKind::kReferenceToVideo)) {
        auto frames = engine::VideoFrames(*preset, r.duration_s > 0 ? r.duration_s : 5.0);
        if (frames.ok()) plan.frames = *frames;
        else fits = frames.error();
      }
      if (fits.ok()) return plan;
      reasons += (reasons.empty() ? "" : "; ") + fits.error().message;
      if (field.empty()) field = fits.error().field;
    }
    if (reasons.empty()) {
      return MakeError(ErrorCode::kUnsupportedModel,
                       fmt::format("no local preset makes {}", core::ToString(r.kind)));
    }
    return MakeError(ErrorCode::kInvalidInput, reasons, field);
  }

  // The input media, decoded for the engine; image to video takes its size from the picture.
  static Result<Sources> Decode(const core::GenerationRequest& r, const media::PreparedInputs& inputs, Plan& plan) {
    Sources sources;
    if (r.kind == core::RequestKind::kVideoEdit) {
      if (!inputs.video) return MakeError(ErrorCode::kInvalidInput, "a video edit needs its video", "video_url");
      ASSIGN_OR_RETURN(core::VideoClip clip,
                       media::DecodeVideo(inputs.video->path.string(),
                                          {.fps = plan.preset->fps,
                                           .max_seconds = r.duration_s,
                                           .cover_width = plan.size.width,
                                           .cover_height = plan.size.height,
                                           .audio = r.audio_setting == "origin"}));
      sources.frames = std::move(clip.frames);
      sources.audio = std::move(clip.audio);
      sources.sample_rate = clip.sample_rate;
      ASSIGN_OR_RETURN(sources.references, DecodeImages(inputs.images));
    } else if (r.kind == core::RequestKind::kImageEdit) {
      if (inputs.images.empty()) return MakeError(ErrorCode::kInvalidInput, "no input image", "image_urls");
      ASSIGN_OR_RETURN(core::RgbImage picture, media::DecodeImage(inputs.images.front().path.string()));
      sources.frames.push_back(std::move(picture));
    } else if (r.kind == core::RequestKind::kImageToVideo) {
      if (!inputs.first_frame) return MakeError(ErrorCode::kInvalidInput, "no first frame", "first_frame_url");
      ASSIGN_OR_RETURN(core::RgbImage picture, media::DecodeImage(inputs.first_frame->path.string()));
      ASSIGN_OR_RETURN(plan.size, engine::ImageToVideoRenderSize(*plan.preset, r.resolution_tier, picture.width,
                                                                 picture.height));
      sources.first_frame = std::move(picture);
    } else if (r.kind == core::RequestKind::kReferenceToVideo) {
      ASSIGN_OR_RETURN(sources.references, DecodeImages(inputs.images));
      if (inputs.first_frame) {
        // The first frame's ratio wins over the asked one.
        ASSIGN_OR_RETURN(core::RgbImage picture, media::DecodeImage(inputs.first_frame->path.string()));
        ASSIGN_OR_RETURN(plan.size, engine::ImageToVideoRenderSize(*plan.preset, r.resolution_tier, picture.width,
                                                                   picture.height));
        sources.first_frame = std::move(picture);
      }
    }
    return sources;
  }

  static Result<std::vector<core::RgbImage>> DecodeImages(const std::vector<media::InputFile>& files) {
    std::vector<core::RgbImage> out;
    for (const auto& file : files) {
      ASSIGN_OR_RETURN(core::RgbImage picture, media::DecodeImage(file.path.string()));
      out.push_back(std::move(picture));
    }
    return out;
  }

  // The preset's generator, loaded if need be. REQUIRES: run_mutex_ held.
  Result<engine::Generator*> Loaded(const engine::Preset& preset) {
    for (auto it = loaded_.begin(); it != loaded_.end(); ++it) {
      if ((*it)->preset().name != preset.name) continue;
      loaded_.splice(loaded_.begin(), loaded_, it);  // most recently used first
      return loaded_.front().get();
    }
    if (auto threads = engine::SetThreads(options_.threads); !threads.ok()) return threads.error();
    auto files = engine::LocatePresetFiles(preset, options_.weights_dir);
    if (!files.ok()) return MakeError(ErrorCode::kUnavailable, "local engine: " + files.error().message);
    // Weights are read into host memory first whatever the device: make room for them there.
    const int64_t needed = engine::WeightBytes(*files) * 11 / 10;
    while (!loaded_.empty() && AvailableMemory() >= 0 && AvailableMemory() < needed) Evict();
    engine::GeneratorOptions options;
    options.model = preset.name;
    options.weights_dir = options_.weights_dir;
    options.weight_seed = options_.weight_seed;
    options.device = options_.device;
    options.precision = options_.precision;
    options.cpu_cache_mb = options_.cpu_cache_mb;
    options.offload_text_encoder = options_.offload_text_encoder;
    const auto load_started = std::chrono::steady_clock::now();
    auto generator = engine::Generator::Open(options);
    if (!generator.ok() && !loaded_.empty()) {
      // Device memory is only known by trying: free it all and try once more.
      spdlog::warn("local engine: {} did not load beside {} other model(s) ({}); unloading them", preset.name,
                   loaded_.size(), generator.error().message);
      while (!loaded_.empty()) Evict();
      generator = engine::Generator::Open(options);
    }
    if (!generator.ok()) return MakeError(ErrorCode::kUnavailable, "local engine: " + generator.error().message);
    const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_started).count();
    RecordEngineLoad(options_.metrics, preset.name, load_seconds);
    spdlog::info("local engine: {} loaded on {} in {:.1f} s", preset.name, (*generator)->placement(), load_seconds);
    loaded_.push_front(std::move(*generator));
    return loaded_.front().get();
  }

  void Evict() {
    spdlog::info("local engine: unloading {} to make room", loaded_.back()->preset().name);
    loaded_.pop_back();
  }

  LocalEngineOptions options_;
  std::vector<const engine::Preset*> presets_;
  double edit_strength_;
  std::timed_mutex run_mutex_;
  std::list<std::unique_ptr<engine::Generator>> loaded_;  // most recently used first
};

}  // namespace

Result<std::unique_ptr<Provider>> MakeLocalProvider(const LocalEngineOptions& options) {
  ASSIGN_OR_RETURN(std::vector<const engine::Preset*> presets, engine::ResolvePresetNames(options.models));
  if (options.metrics != nullptr) DescribeEngineMetrics(*options.metrics);
  return std::unique_ptr<Provider>(std::make_unique<LocalProvider>(options, std::move(presets)));
}

}  // namespace wanserve::providers
