// The engine's side of scripts/gpu_check.sh, built against the machine's own libtorch with no
// other dependency (so no server, tokenizer or command-line library):
//   gpu_check golden DIR DEVICE PRECISION [ONLY]   the golden set's checks; exit 1 on a failure
//   gpu_check step PRESET DEVICE PRECISION REPEATS one denoising step (two DiT forwards)
//   gpu_check vae PRESET DEVICE REPEATS            the VAE decode of the preset's default video
//   gpu_check run PRESET DEVICE STEPS [offload]    text to video at the preset's default size
// Figures are JSON lines with the median seconds and the peak device memory. Weights are
// random, drawn on the device; shapes are the preset's (832x480x81 for Wan2.1-1.3B,
// 1280x704x121 for TI2V-5B; the tiny presets' for a check on a CPU).
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && __has_include(<cuda_runtime_api.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#define WANSERVE_HAS_CUDA_HEADERS 1
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <functional>
#include <string>
#include <vector>

#include "engine/dit.h"
#include "engine/golden.h"
#include "engine/pipeline.h"
#include "engine/presets.h"
#include "engine/vae.h"

namespace wanserve::engine {
namespace {

void Sync(const at::Device& device) {
#ifdef WANSERVE_HAS_CUDA_HEADERS
  if (device.is_cuda()) c10::cuda::device_synchronize();
#else
  (void)device;
#endif
}

void ResetPeak(const at::Device& device) {
#ifdef WANSERVE_HAS_CUDA_HEADERS
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#else
  (void)device;
#endif
}

double PeakGib(const at::Device& device) {
#ifdef WANSERVE_HAS_CUDA_HEADERS
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.allocated_bytes[0].peak) / (1 << 30);
  }
#else
  (void)device;
#endif
  return 0;
}

// Median seconds of `repeats` timed runs after one warm-up.
double MedianSeconds(int repeats, const at::Device& device, const std::function<void()>& run) {
  run();
  Sync(device);
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    Sync(device);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void PrintFigure(const std::string& name, double seconds, const at::Device& device) {
  std::printf("{\"name\":\"%s\",\"seconds\":%.6f,\"peak_gib\":%.3f}\n", name.c_str(), seconds, PeakGib(device));
  std::fflush(stdout);
}

template <typename T>
T Unwrap(Result<T> r) {
  TORCH_CHECK(r.ok(), r.ok() ? "" : r.error().message);
  return std::move(r).value();
}

const Preset& PresetNamed(const std::string& name) {
  const Preset* preset = FindPreset(name);
  TORCH_CHECK(preset != nullptr, "unknown preset ", name);
  return *preset;
}

// The latent of the preset's default video: [z, 1 + (F-1)/4, H/s, W/s].
std::vector<int64_t> LatentShape(const Preset& p, int64_t z) {
  return {z, (p.frames - 1) / 4 + 1, p.height / p.vae_stride, p.width / p.vae_stride};
}

int Golden(const std::string& dir, const std::string& device, const std::string& precision, const std::string& only) {
  GoldenOptions options;
  options.device = device;
  options.precision = precision;
  if (!only.empty()) options.only = {only};
  int failed = 0;
  auto checks = CheckGoldenSet(dir, options, [&](const GoldenCheck& c) {
    std::printf("%-28s %-36s %12.3e %12.3e  %s %s\n", c.case_name.c_str(), c.tensor.c_str(), c.max_abs_error,
                c.tolerance, c.passed ? "PASS" : "FAIL", c.message.c_str());
    failed += c.passed ? 0 : 1;
  });
  if (!checks.ok()) {
    std::fprintf(stderr, "error: %s\n", checks.error().message.c_str());
    return 2;
  }
  std::printf("%s %s %s: %zu checks, %d failed\n", dir.c_str(), device.c_str(), precision.c_str(), checks->size(), failed);
  return failed == 0 && !checks->empty() ? 0 : 1;
}

int Step(const Preset& p, const Placement& placement, int repeats) {
  const DitConfig config = Unwrap(DitConfig::FromJson(p.dit));
  const WanDiT dit = Unwrap(WanDiT::Create(config, Weights::RandomOn(1, placement.device), placement));
  const auto shape = LatentShape(p, config.in_dim);
  const auto options = at::TensorOptions().device(placement.device);
  const at::Tensor latent = at::randn(shape, options);
  const at::Tensor context = at::randn({config.text_len, config.text_dim}, options);
  const at::Tensor t = at::full({1}, 999.0f, options);
  const int64_t seq_len = SequenceLength(config, shape);
  // A VACE preset reads its context (96 channels on the latent's grid) in both passes.
  std::optional<VaceInput> vace;
  if (config.vace()) vace = VaceInput{{at::randn(LatentShape(p, config.vace_in_dim), options)}, 1.0};
  const VaceInput* v = vace ? &*vace : nullptr;
  ResetPeak(placement.device);
  const double seconds = MedianSeconds(repeats, placement.device, [&] {
    dit.Forward({latent}, t, {context}, seq_len, v);
    dit.Forward({latent}, t, {context}, seq_len, v);
  });
  PrintFigure(p.name + "_step", seconds, placement.device);
  return 0;
}

int Vae(const Preset& p, const at::Device& device, int repeats) {
  const VaeConfig config = Unwrap(VaeConfig::FromJson(p.vae, p.wan22_vae));
  const WanVae vae = Unwrap(WanVae::Create(config, Weights::RandomOn(3, device), device));
  const at::Tensor latent = at::randn(LatentShape(p, config.z_dim), at::TensorOptions().device(device));
  ResetPeak(device);
  PrintFigure(p.name + "_vae", MedianSeconds(repeats, device, [&] { vae.Decode(latent); }), device);
  return 0;
}

// The whole generation as the server runs it (text encoder, guided steps, decode), timed from
// the first encode to the last frame; loading is reported apart.
int Run(const Preset& p, const std::string& device, int steps, bool offload) {
  GeneratorOptions options;
  options.device = device;
  options.precision = "auto";
  options.offload_text_encoder = offload;
  const Placement placement = Unwrap(ResolvePlacement(device, "auto"));
  const auto load_start = std::chrono::steady_clock::now();
  const Weights random = Weights::RandomOn(5, placement.device);
  const auto runner = Unwrap(OpenModel(p, PresetFiles{}, options, &random));
  Sync(placement.device);
  const double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  ModelRequest r;
  const int text_len = p.dit.at("text_len").get<int>();
  for (int i = 0; i < text_len; ++i) {
    r.prompt_ids.push_back(i < 80 ? 100 + i : 0);
    r.prompt_mask.push_back(i < 80 ? 1 : 0);
    r.negative_ids.push_back(i < 120 ? 300 + i : 0);
    r.negative_mask.push_back(i < 120 ? 1 : 0);
  }
  r.width = p.width;
  r.height = p.height;
  r.frames = p.frames;
  r.steps = steps;
  r.shift = p.shift;
  r.guide_scale = p.guide_scale;
  r.guide_scale_high = p.guide_scale_high;
  r.seed = 7;
  r.sampler = "unipc";
  ResetPeak(placement.device);
  // The peak up to the last denoising step, then the decode's own (weights count in both).
  double denoise_peak = 0;
  const auto start = std::chrono::steady_clock::now();
  const core::VideoClip clip = Unwrap(runner->Run(r, [&](int done, int total) {
    if (done == total - 1) {
      Sync(placement.device);
      denoise_peak = PeakGib(placement.device);
      ResetPeak(placement.device);
    }
    return true;
  }));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double decode_peak = PeakGib(placement.device);
  std::printf("{\"name\":\"%s_run_%d_steps\",\"seconds\":%.3f,\"peak_gib\":%.3f,\"denoise_peak_gib\":%.3f,"
              "\"decode_peak_gib\":%.3f,\"load_seconds\":%.1f,\"frames\":%zu,\"width\":%d,\"height\":%d,"
              "\"placement\":\"%s\",\"offload_text_encoder\":%s}\n",
              p.name.c_str(), steps, seconds, std::max(denoise_peak, decode_peak), denoise_peak, decode_peak, load,
              clip.frames.size(), clip.frames.front().width, clip.frames.front().height, runner->placement().c_str(),
              offload ? "true" : "false");
  return 0;
}

int Main(const std::vector<std::string>& a) {
  at::NoGradGuard no_grad;
  const auto arg = [&](size_t i, const std::string& fallback = "") { return i < a.size() ? a[i] : fallback; };
  const std::string what = arg(1);
  if (what == "golden" && a.size() >= 5) return Golden(a[2], a[3], a[4], arg(5));
  if (what == "step" && a.size() >= 6) {
    return Step(PresetNamed(a[2]), Unwrap(ResolvePlacement(a[3], a[4])), std::stoi(a[5]));
  }
  if (what == "vae" && a.size() >= 5) return Vae(PresetNamed(a[2]), Unwrap(ResolvePlacement(a[3], "float32")).device, std::stoi(a[4]));
  if (what == "run" && a.size() >= 5) return Run(PresetNamed(a[2]), a[3], std::stoi(a[4]), arg(5) == "offload");
  std::fprintf(stderr, "usage: see the head of bench/gpu/gpu_check.cpp\n");
  return 2;
}

}  // namespace
}  // namespace wanserve::engine

int main(int argc, char** argv) {
  try {
    return wanserve::engine::Main(std::vector<std::string>(argv, argv + argc));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
