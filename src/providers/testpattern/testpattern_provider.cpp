// The testpattern provider: real images and videos, rendered without a model. A moving
// pattern whose colours derive from the seed, with the prompt, seed and frame number drawn in,
// so a person looking at an output can tell which request made it. Deterministic per seed.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "providers/provider.h"
#include "providers/testpattern/font5x7.h"

namespace wanserve::providers {
namespace {

using core::RgbImage;

constexpr double kPi = 3.14159265358979323846;

struct Rgb {
  uint8_t r, g, b;
};

Rgb Hue(double h) {
  h = h - std::floor(h);
  const double r = 0.5 + 0.5 * std::cos(2 * kPi * (h + 0.0));
  const double g = 0.5 + 0.5 * std::cos(2 * kPi * (h + 1.0 / 3));
  const double b = 0.5 + 0.5 * std::cos(2 * kPi * (h + 2.0 / 3));
  return {static_cast<uint8_t>(40 + 180 * r), static_cast<uint8_t>(40 + 180 * g),
          static_cast<uint8_t>(40 + 180 * b)};
}

void FillRect(RgbImage& img, int x0, int y0, int w, int h, Rgb c) {
  for (int y = std::max(0, y0); y < std::min(img.height, y0 + h); ++y) {
    for (int x = std::max(0, x0); x < std::min(img.width, x0 + w); ++x) {
      auto* p = &img.rgb[(static_cast<size_t>(y) * img.width + x) * 3];
      p[0] = c.r;
      p[1] = c.g;
      p[2] = c.b;
    }
  }
}

void DrawText(RgbImage& img, int x, int y, int scale, std::string_view text, Rgb c) {
  for (char ch : text) {
    const uint8_t* rows = testpattern::Glyph(ch);
    for (int ry = 0; ry < 7; ++ry) {
      for (int rx = 0; rx < 5; ++rx) {
        if (rows[ry] & (0x10 >> rx)) FillRect(img, x + rx * scale, y + ry * scale, scale, scale, c);
      }
    }
    x += 6 * scale;
  }
}

// Greedy word wrap to at most max_lines lines of max_chars characters (bytes; non-ASCII is
// drawn as '?').
std::vector<std::string> Wrap(const std::string& text, size_t max_chars, size_t max_lines) {
  std::vector<std::string> lines;
  std::string line;
  size_t i = 0;
  while (i < text.size() && lines.size() < max_lines) {
    size_t end = text.find(' ', i);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(i, std::min(end - i, max_chars));
    if (!line.empty() && line.size() + 1 + word.size() > max_chars) {
      lines.push_back(line);
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    i = end + 1;
  }
  if (!line.empty() && lines.size() < max_lines) lines.push_back(line);
  return lines;
}

RgbImage RenderFrame(int width, int height, uint64_t seed, int index, int total,
                     const std::string& prompt) {
  RgbImage img{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  const double base = static_cast<double>(seed % 1000) / 1000.0;
  const double t = total > 1 ? static_cast<double>(index) / (total - 1) : 0.0;
  const int bars = 8;
  for (int b = 0; b < bars; ++b) {
    const int x0 = b * width / bars;
    const int x1 = (b + 1) * width / bars;
    FillRect(img, x0, 0, x1 - x0, height, Hue(base + b / static_cast<double>(bars) + t * 0.25));
  }
  const int box = std::max(8, std::min(width, height) / 6);
  const int bx = static_cast<int>(t * (width - box));
  const int by = height / 2 - box / 2 + static_cast<int>(std::sin(t * 2 * kPi) * height / 6);
  FillRect(img, bx, by, box, box, {250, 250, 250});

  const int scale = std::max(1, width / 320);
  const int line_h = 9 * scale;
  const size_t max_chars = static_cast<size_t>(std::max(8, (width - 4 * scale) / (6 * scale)));
  auto lines = Wrap(prompt, max_chars, 3);
  lines.push_back(fmt::format("SEED {}", seed));
  if (total > 1) lines.push_back(fmt::format("FRAME {}/{}", index + 1, total));
  FillRect(img, 0, 0, width, static_cast<int>(lines.size()) * line_h + 2 * scale, {16, 16, 16});
  for (size_t i = 0; i < lines.size(); ++i) {
    DrawText(img, 2 * scale, scale + static_cast<int>(i) * line_h, scale, lines[i], {240, 240, 240});
  }
  return img;
}

std::vector<float> Soundtrack(uint64_t seed, double seconds, int rate) {
  const size_t n = static_cast<size_t>(seconds * rate);
  std::vector<float> out(n);
  const double notes[] = {220.0, 261.63, 329.63, 392.0, 440.0};
  for (size_t i = 0; i < n; ++i) {
    const double time = static_cast<double>(i) / rate;
    const auto beat = static_cast<size_t>(time * 2);  // two notes per second
    const double f = notes[(seed + beat) % 5];
    const double env = std::min(1.0, (time * 2 - static_cast<double>(beat)) * 20);
    out[i] = static_cast<float>(0.2 * env * std::sin(2 * kPi * f * time));
  }
  return out;
}

class TestPatternProvider final : public Provider {
 public:
  explicit TestPatternProvider(TestPatternOptions options) : options_(options) {}

  std::string_view Name() const override { return "testpattern"; }

  bool ForTestsOnly() const override { return true; }

  Status Serves(const core::GenerationRequest& r) const override {
    if (r.width <= 0 || r.height <= 0 ||
        static_cast<int64_t>(r.width) * r.height > options_.max_pixels) {
      return MakeError(ErrorCode::kInvalidInput,
                       fmt::format("size {}x{} is outside what testpattern renders", r.width, r.height), "size");
    }
    return Status::Ok();
  }

  std::vector<Capability> Capabilities(std::string_view model) const override {
    std::vector<Capability> out;
    for (core::RequestKind kind : core::KindsOfModel(model)) {
      out.push_back({kind, fmt::format("any size up to {:.1f} MP", options_.max_pixels / 1e6), "test patterns, no model"});
    }
    return out;
  }

  Result<core::GeneratedMedia> Run(const core::GenerationRequest& r, const media::PreparedInputs&,
                                   const ProgressFn& progress, const CancelFn& canceled) override {
    RETURN_IF_ERROR(Serves(r));
    const uint64_t seed = r.seed ? static_cast<uint64_t>(*r.seed) : std::hash<std::string>{}(r.prompt);
    const int outputs = std::max(1, r.count);
    const int total_steps = options_.steps * outputs;
    int done = 0;
    core::GeneratedMedia media;
    for (int o = 0; o < outputs; ++o) {
      for (int s = 0; s < options_.steps; ++s) {
        if (canceled()) return MakeError(ErrorCode::kCanceled, "canceled by request");
        std::this_thread::sleep_for(std::chrono::milliseconds(options_.step_delay_ms));
        progress(++done * 100 / total_steps);
      }
      const uint64_t out_seed = seed + static_cast<uint64_t>(o);
      if (!core::IsVideo(r.kind)) {
        media.images.push_back(RenderFrame(r.width, r.height, out_seed, 0, 1, r.prompt));
        continue;
      }
      core::VideoClip clip;
      clip.fps = r.fps > 0 ? r.fps : 16;
      // Until input probing lands, "keep the input duration" renders the default 5 s.
      const double seconds = r.duration_s > 0 ? r.duration_s : 5.0;
      const int frames = std::max(1, static_cast<int>(std::lround(seconds * clip.fps)));
      clip.frames.reserve(static_cast<size_t>(frames));
      for (int f = 0; f < frames; ++f) {
        if (f % 16 == 0 && canceled()) return MakeError(ErrorCode::kCanceled, "canceled by request");
        clip.frames.push_back(RenderFrame(r.width, r.height, out_seed, f, frames, r.prompt));
      }
      clip.audio = Soundtrack(out_seed, static_cast<double>(frames) / clip.fps, clip.sample_rate);
      media.videos.push_back(std::move(clip));
    }
    return media;
  }

 private:
  TestPatternOptions options_;
};

}  // namespace

std::unique_ptr<Provider> MakeTestPatternProvider(const TestPatternOptions& options) {
  return std::make_unique<TestPatternProvider>(options);
}

}  // namespace wanserve::providers
