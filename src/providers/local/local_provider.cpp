// The local provider: text-to-image and text-to-video on this machine's Wan engine. One model
// is loaded on first use and runs one task at a time (a model fills the device it runs on).
// Outputs are rendered at the model's size class and scaled to the size the request asked for.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <random>

#include "engine/engine.h"
#include "engine/presets.h"
#include "media/encode.h"
#include "providers/provider.h"

namespace wanserve::providers {
namespace {

// The largest size with the request's aspect ratio within `max_pixels`, in multiples of `multiple`.
std::pair<int, int> RenderSize(int width, int height, int64_t max_pixels, int multiple) {
  const double area = static_cast<double>(width) * height;
  const double scale = std::min(1.0, std::sqrt(static_cast<double>(max_pixels) / area));
  const auto fit = [&](int side) {
    return std::max(multiple, static_cast<int>(std::lround(side * scale / multiple)) * multiple);
  };
  return {fit(width), fit(height)};
}

// 1 + 4k frames closest to `seconds` at `fps` (at least 5, one latent frame past the first).
int FramesFor(double seconds, int fps) {
  const double frames = std::max(5.0, seconds * fps);
  return 1 + 4 * static_cast<int>(std::lround((frames - 1) / 4));
}

class LocalProvider final : public Provider {
 public:
  explicit LocalProvider(LocalEngineOptions options) : options_(std::move(options)) {}

  std::string_view Name() const override { return "local"; }

  Status CanRun(const core::GenerationRequest& r) const override {
    if (r.kind == core::RequestKind::kImageEdit || r.kind == core::RequestKind::kVideoEdit) {
      return MakeError(ErrorCode::kInvalidInput,
                       fmt::format("the local engine does not do {} yet", core::ToString(r.kind)));
    }
    if (!r.audio_urls.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "the local engine does not take driving audio");
    }
    if (r.width <= 0 || r.height <= 0) return MakeError(ErrorCode::kInvalidInput, "no output size");
    return Status::Ok();
  }

  Result<core::GeneratedMedia> Run(const core::GenerationRequest& r, const ProgressFn& progress,
                                   const CancelFn& canceled) override {
    RETURN_IF_ERROR(CanRun(r));
    // Waiting behind another task can take minutes; a cancel (or a shutdown) ends the wait.
    // Checked once more after the lock is taken: model loading comes before the first step.
    std::unique_lock lock(run_mutex_, std::defer_lock);
    while (!lock.try_lock_for(std::chrono::milliseconds(100)) && !canceled()) {
    }
    if (canceled()) return MakeError(ErrorCode::kCanceled, "canceled while waiting for the engine");
    RETURN_IF_ERROR(EnsureLoaded());
    const engine::Preset& preset = generator_->preset();
    const int64_t max_pixels =
        options_.max_render_pixels > 0 ? options_.max_render_pixels : int64_t{preset.width} * preset.height;
    const auto [render_w, render_h] = RenderSize(r.width, r.height, max_pixels, generator_->size_multiple());
    const bool video = core::IsVideo(r.kind);
    const int outputs = std::max(1, r.count);
    const int64_t base_seed = r.seed ? *r.seed : static_cast<int64_t>(std::random_device{}() & 0x7fffffff);

    core::GeneratedMedia media;
    for (int o = 0; o < outputs; ++o) {
      engine::GenerateRequest request;
      request.prompt = r.prompt;
      request.negative_prompt = r.negative_prompt;
      request.width = render_w;
      request.height = render_h;
      request.frames = video ? FramesFor(r.duration_s > 0 ? r.duration_s : 5.0, preset.fps) : 1;
      request.seed = base_seed + o;
      auto generated = generator_->Generate(request, [&](int done, int total) {
        progress(static_cast<int>((static_cast<int64_t>(o) * total + done) * 100 / (int64_t{outputs} * total)));
        return !canceled();
      });
      if (!generated.ok()) {
        if (generated.error().code == ErrorCode::kCanceled) return MakeError(ErrorCode::kCanceled, "canceled by request");
        return generated.error();
      }
      core::VideoClip& clip = generated->clip;
      for (auto& frame : clip.frames) {
        ASSIGN_OR_RETURN(frame, media::ResizeImage(frame, r.width, r.height));
      }
      if (video) {
        media.videos.push_back(std::move(clip));
      } else {
        media.images.push_back(std::move(clip.frames.front()));
      }
    }
    return media;
  }

 private:
  Status EnsureLoaded() {
    if (generator_) return Status::Ok();
    if (auto threads = engine::SetThreads(options_.threads); !threads.ok()) return threads.error();
    engine::GeneratorOptions options;
    options.model = options_.model;
    options.weights_dir = options_.weights_dir;
    options.weight_seed = options_.weight_seed;
    options.device = options_.device;
    options.precision = options_.precision;
    options.cpu_cache_mb = options_.cpu_cache_mb;
    auto generator = engine::Generator::Open(options);
    if (!generator.ok()) {
      return MakeError(ErrorCode::kUnavailable, "local engine: " + generator.error().message);
    }
    generator_ = std::move(*generator);
    spdlog::info("local engine: {} loaded on {}", options.model, generator_->placement());
    return Status::Ok();
  }

  LocalEngineOptions options_;
  std::timed_mutex run_mutex_;
  std::unique_ptr<engine::Generator> generator_;
};

}  // namespace

std::unique_ptr<Provider> MakeLocalProvider(const LocalEngineOptions& options) {
  return std::make_unique<LocalProvider>(options);
}

}  // namespace wanserve::providers
