#include "engine/bench.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "engine/dit.h"
#include "engine/pipeline.h"
#include "engine/safetensors.h"
#include "engine/vae.h"
#include "engine/weights.h"

namespace wanserve::engine {
namespace {

double MedianSeconds(int repeats, const std::function<void()>& run) {
  run();  // warm-up: allocator, thread pool, first-touch of weights
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Matrix-product arithmetic of one DiT forward over `tokens` tokens and `text` text rows.
double DitGflop(const DitConfig& c, int64_t tokens, int64_t text) {
  const double L = static_cast<double>(tokens);
  const double T = static_cast<double>(text);
  const double d = static_cast<double>(c.dim);
  const double f = static_cast<double>(c.ffn_dim);
  const double per_layer = 2 * (4 * L * d * d + 2 * L * L * d +  // self-attention
                                2 * L * d * d + 2 * T * d * d + 2 * L * T * d +  // cross-attention
                                2 * L * d * f);  // feed-forward
  return per_layer * static_cast<double>(c.num_layers) / 1e9;
}

DitConfig MidDit() {
  DitConfig c;
  c.dim = 1536;
  c.ffn_dim = 8960;
  c.num_heads = 12;
  c.num_layers = 4;
  return c;
}

// The mid-size DiT as Wan2.1-VACE-1.3B extends it: a VACE block hinting every second block.
DitConfig MidVaceDit() {
  DitConfig c = MidDit();
  c.model_type = "vace";
  c.vace_layers = {0, 2};
  c.vace_in_dim = 96;
  return c;
}

BenchFigure DitFigure(const std::string& name, const DitConfig& config, const Weights& weights,
                      std::vector<int64_t> latent_shape, int repeats) {
  const WanDiT dit = [&] {
    auto made = WanDiT::Create(config, weights);
    TORCH_CHECK(made.ok(), made.ok() ? "" : made.error().message);
    return std::move(made).value();
  }();
  const at::Tensor latent = at::randn(latent_shape);
  const at::Tensor context = at::randn({config.text_len, config.text_dim});
  const int64_t seq_len = SequenceLength(config, latent.sizes());
  const at::Tensor t = at::full({1}, 999.0f);
  std::optional<VaceInput> vace;
  if (config.vace()) {
    latent_shape[0] = config.vace_in_dim;
    vace = VaceInput{{at::randn(latent_shape)}, 1.0};
  }
  const double seconds =
      MedianSeconds(repeats, [&] { (void)dit.Forward({latent}, t, {context}, seq_len, vace ? &*vace : nullptr); });
  DitConfig counted = config;
  counted.num_layers += static_cast<int64_t>(config.vace_layers.size());
  return {name, seconds, DitGflop(counted, seq_len, config.text_len)};
}

}  // namespace

Result<std::vector<BenchFigure>> MeasureEngine(const Preset& tiny, int repeats) try {
  at::NoGradGuard no_grad;
  std::vector<BenchFigure> figures;
  const at::Tensor a = at::randn({4096, 4096});
  const at::Tensor b = at::randn({4096, 4096});
  figures.push_back({"matmul_4096", MedianSeconds(repeats, [&] { (void)at::mm(a, b); }), 2.0 * 4096 * 4096 * 4096 / 1e9});

  const Weights random = Weights::Random(1);
  ASSIGN_OR_RETURN(const DitConfig tiny_dit, DitConfig::FromJson(tiny.dit));
  figures.push_back(DitFigure("tiny_dit_forward", tiny_dit, random, {16, 5, 16, 16}, repeats));
  ASSIGN_OR_RETURN(const VaeConfig tiny_vae, VaeConfig::FromJson(tiny.vae, tiny.wan22_vae));
  ASSIGN_OR_RETURN(const WanVae vae, WanVae::Create(tiny_vae, random));
  const at::Tensor z = at::randn({16, 5, 16, 16});
  figures.push_back({"tiny_vae_decode", MedianSeconds(repeats, [&] { (void)vae.Decode(z); }), 0});
  figures.push_back(DitFigure("mid_dit_forward", MidDit(), random, {16, 1, 60, 104}, repeats));
  figures.push_back(DitFigure("mid_vace_forward", MidVaceDit(), random, {16, 1, 60, 104}, repeats));
  return figures;
} catch (const c10::Error& e) {
  return MakeError(ErrorCode::kInternal, e.what_without_backtrace());
}

Status WriteMidDitWeights(const std::string& path) {
  try {
    // Building the model on random weights draws every tensor it needs; those are the file.
    const Weights random = Weights::Random(2);
    auto made = WanDiT::Create(MidDit(), random);
    if (!made.ok()) return made.error();
    return WriteSafetensors(path, random.Generated());
  } catch (const c10::Error& e) {
    return MakeError(ErrorCode::kInternal, e.what_without_backtrace());
  }
}

Result<int64_t> LoadMidDit(const std::string& path) try {
  ASSIGN_OR_RETURN(const Weights weights, Weights::Load(path));
  ASSIGN_OR_RETURN(const WanDiT dit, WanDiT::Create(MidDit(), weights));
  // Touch every weight once, as a first forward would.
  double sum = 0;
  for (const auto& [name, tensor] : weights.tensors()) sum += tensor.sum().item<double>();
  return sum == sum ? static_cast<int64_t>(weights.bytes()) : 0;
} catch (const c10::Error& e) {
  return MakeError(ErrorCode::kInternal, e.what_without_backtrace());
}

}  // namespace wanserve::engine
