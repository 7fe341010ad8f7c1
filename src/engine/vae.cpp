#include "engine/vae.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "engine/ops.h"

namespace wanserve::engine {
namespace {

// Each causal convolution keeps the last two frames of its input from the previous chunk.
constexpr int64_t kCacheFrames = 2;

// Per-chunk cursor over the cache slots: every cached layer takes the next slot in call order,
// which is the same for every chunk.
class Caches {
 public:
  at::Tensor& Next() {
    if (cursor_ == slots_.size()) slots_.emplace_back();
    return slots_[cursor_++];
  }
  void StartChunk() {
    cursor_ = 0;
    ++chunk_;
  }
  bool first_chunk() const { return chunk_ == 1; }

 private:
  std::vector<at::Tensor> slots_;
  size_t cursor_ = 0;
  int64_t chunk_ = 0;
};

at::Tensor ToFrames(const at::Tensor& x) {  // [b, c, t, h, w] → [b*t, c, h, w]
  return x.permute({0, 2, 1, 3, 4}).reshape({-1, x.size(1), x.size(3), x.size(4)});
}

at::Tensor FromFrames(const at::Tensor& x, int64_t batch) {  // inverse of ToFrames
  return x.reshape({batch, -1, x.size(1), x.size(2), x.size(3)}).permute({0, 2, 1, 3, 4});
}

// L2-normalise over channels, times sqrt(channels) and a learned per-channel gain.
at::Tensor ChannelRmsNorm(const at::Tensor& x, const at::Tensor& gamma) {
  const double scale = std::sqrt(static_cast<double>(x.size(1)));
  return x / at::clamp_min(at::norm(x, 2, {1}, true), 1e-12) * scale * gamma;
}

struct CausalConv {
  at::Tensor w, b;
  std::array<int64_t, 3> pad{0, 0, 0};  // t, h, w as given to the module; time pads 2*t in front
  std::array<int64_t, 3> stride{1, 1, 1};

  at::Tensor Run(const at::Tensor& x, const at::Tensor& cache = {}) const {
    at::Tensor input = x;
    int64_t front = 2 * pad[0];
    if (cache.defined() && front > 0) {
      input = at::cat({cache, x}, 2);
      front -= cache.size(2);
    }
    input = at::constant_pad_nd(input, {pad[2], pad[2], pad[1], pad[1], front, 0});
    return at::conv3d(input, w, b, {stride[0], stride[1], stride[2]});
  }

  // Runs on this chunk and replaces the slot with the frames the next chunk needs.
  at::Tensor RunCached(const at::Tensor& x, at::Tensor& slot) const {
    at::Tensor next = x.narrow(2, std::max<int64_t>(0, x.size(2) - kCacheFrames),
                               std::min(kCacheFrames, x.size(2)));
    if (next.size(2) < kCacheFrames && slot.defined()) {
      next = at::cat({slot.narrow(2, slot.size(2) - 1, 1), next}, 2);
    }
    at::Tensor out = Run(x, slot);
    slot = next.clone();
    return out;
  }
};

CausalConv ReadConv(WeightReader r, int64_t in, int64_t out, std::array<int64_t, 3> kernel,
                    std::array<int64_t, 3> pad, std::array<int64_t, 3> stride = {1, 1, 1}) {
  CausalConv c;
  c.w = r("weight", {out, in, kernel[0], kernel[1], kernel[2]});
  c.b = r("bias", {out});
  c.pad = pad;
  c.stride = stride;
  return c;
}

struct ResidualBlock {
  at::Tensor gamma1, gamma2;
  CausalConv conv1, conv2;
  std::optional<CausalConv> shortcut;

  at::Tensor Run(const at::Tensor& x, Caches& caches) const {
    const at::Tensor h = shortcut ? shortcut->Run(x) : x;
    at::Tensor y = conv1.RunCached(at::silu(ChannelRmsNorm(x, gamma1)), caches.Next());
    y = conv2.RunCached(at::silu(ChannelRmsNorm(y, gamma2)), caches.Next());
    return y + h;
  }
};

ResidualBlock ReadResidual(WeightReader r, int64_t in, int64_t out) {
  ResidualBlock block;
  block.gamma1 = r("residual.0.gamma", {in, 1, 1, 1});
  block.conv1 = ReadConv(r.Scope("residual.2"), in, out, {3, 3, 3}, {1, 1, 1});
  block.gamma2 = r("residual.3.gamma", {out, 1, 1, 1});
  block.conv2 = ReadConv(r.Scope("residual.6"), out, out, {3, 3, 3}, {1, 1, 1});
  if (in != out) block.shortcut = ReadConv(r.Scope("shortcut"), in, out, {1, 1, 1}, {0, 0, 0});
  return block;
}

// Single-head self-attention within each frame.
struct AttentionBlock {
  at::Tensor gamma, qkv_w, qkv_b, proj_w, proj_b;

  at::Tensor Run(const at::Tensor& x, Caches& /*uncached*/) const {
    const int64_t batch = x.size(0);
    const int64_t c = x.size(1);
    const at::Tensor frames = ToFrames(x);
    const int64_t hw = frames.size(2) * frames.size(3);
    // [frames, 3c, h, w] → [frames, hw, 3c]
    const at::Tensor qkv =
        at::conv2d(ChannelRmsNorm(frames, gamma), qkv_w, qkv_b).reshape({-1, 3 * c, hw}).permute({0, 2, 1});
    std::vector<at::Tensor> out;
    for (int64_t i = 0; i < qkv.size(0); ++i) {
      const auto parts = qkv[i].unsqueeze(1).chunk(3, -1);  // each [hw, 1, c]
      out.push_back(Attention(parts[0], parts[1], parts[2]).squeeze(1));
    }
    const at::Tensor attended =
        at::stack(out).permute({0, 2, 1}).reshape({-1, c, frames.size(2), frames.size(3)});
    return FromFrames(at::conv2d(attended, proj_w, proj_b), batch) + x;
  }
};

AttentionBlock ReadAttention(WeightReader r, int64_t dim) {
  AttentionBlock a;
  a.gamma = r("norm.gamma", {dim, 1, 1});
  a.qkv_w = r("to_qkv.weight", {3 * dim, dim, 1, 1});
  a.qkv_b = r("to_qkv.bias", {3 * dim});
  a.proj_w = r("proj.weight", {dim, dim, 1, 1});
  a.proj_b = r("proj.bias", {dim});
  return a;
}

enum class ResampleMode { kUp2d, kUp3d, kDown2d, kDown3d };

// Spatial 2x resampling per frame, with a causal temporal 2x on the 3d modes.
struct Resample {
  ResampleMode mode;
  at::Tensor conv_w, conv_b;
  CausalConv time_conv;

  at::Tensor Run(const at::Tensor& input, Caches& caches) const {
    at::Tensor x = input;
    const int64_t batch = x.size(0);
    if (mode == ResampleMode::kUp3d) {
      at::Tensor& slot = caches.Next();
      if (!slot.defined()) {
        // The first chunk is not doubled in time; later ones see zeros before it.
        slot = at::zeros_like(x.narrow(2, 0, 1)).expand({-1, -1, kCacheFrames, -1, -1}).contiguous();
      } else {
        const int64_t c = x.size(1);
        const int64_t t = x.size(2);
        x = time_conv.RunCached(x, slot);
        x = x.reshape({batch, 2, c, t, x.size(3), x.size(4)});
        x = at::stack({x.select(1, 0), x.select(1, 1)}, 3).reshape({batch, c, 2 * t, x.size(4), x.size(5)});
      }
    }
    at::Tensor frames = ToFrames(x);
    if (mode == ResampleMode::kUp2d || mode == ResampleMode::kUp3d) {
      frames = at::upsample_nearest2d(frames, {2 * frames.size(2), 2 * frames.size(3)});
      frames = at::conv2d(frames, conv_w, conv_b, 1, 1);
    } else {
      frames = at::conv2d(at::constant_pad_nd(frames, {0, 1, 0, 1}), conv_w, conv_b, 2);
    }
    x = FromFrames(frames, batch);
    if (mode == ResampleMode::kDown3d) {
      at::Tensor& slot = caches.Next();
      if (!slot.defined()) {
        slot = x.clone();
      } else {
        const at::Tensor next = x.narrow(2, x.size(2) - 1, 1).clone();
        x = time_conv.Run(at::cat({slot.narrow(2, slot.size(2) - 1, 1), x}, 2));
        slot = next;
      }
    }
    return x;
  }
};

Resample ReadResample(WeightReader r, int64_t dim, ResampleMode mode, int64_t up_out) {
  Resample s;
  s.mode = mode;
  const bool up = mode == ResampleMode::kUp2d || mode == ResampleMode::kUp3d;
  s.conv_w = r("resample.1.weight", {up ? up_out : dim, dim, 3, 3});
  s.conv_b = r("resample.1.bias", {up ? up_out : dim});
  if (mode == ResampleMode::kUp3d) {
    s.time_conv = ReadConv(r.Scope("time_conv"), dim, 2 * dim, {3, 1, 1}, {1, 0, 0});
  } else if (mode == ResampleMode::kDown3d) {
    s.time_conv = ReadConv(r.Scope("time_conv"), dim, dim, {3, 1, 1}, {0, 0, 0}, {2, 1, 1});
  }
  return s;
}

// Wan 2.2's shortcut around a downsampling stage: frames (padded in front to a whole group) and
// pixels folded into channels, then channel groups averaged down to the output width.
struct AvgDown {
  int64_t out = 0, factor_t = 1, factor_s = 1;

  at::Tensor Run(const at::Tensor& input) const {
    const int64_t pad_t = (factor_t - input.size(2) % factor_t) % factor_t;
    const at::Tensor x = at::constant_pad_nd(input, {0, 0, 0, 0, pad_t, 0});
    const int64_t b = x.size(0), c = x.size(1), t = x.size(2) / factor_t;
    const int64_t h = x.size(3) / factor_s, w = x.size(4) / factor_s;
    const int64_t factor = factor_t * factor_s * factor_s;
    return x.reshape({b, c, t, factor_t, h, factor_s, w, factor_s})
        .permute({0, 1, 3, 5, 7, 2, 4, 6})
        .reshape({b, out, c * factor / out, t, h, w})
        .mean(2);
  }
};

// Wan 2.2's shortcut around an upsampling stage: channels repeated, then unfolded into frames
// and pixels; the first chunk keeps only its last frame group so one latent frame gives one.
struct DupUp {
  int64_t in = 0, out = 0, factor_t = 1, factor_s = 1;

  at::Tensor Run(const at::Tensor& input, bool first_chunk) const {
    const int64_t factor = factor_t * factor_s * factor_s;
    const at::Tensor x = input.repeat_interleave(out * factor / in, 1);
    const int64_t b = x.size(0), t = x.size(2), h = x.size(3), w = x.size(4);
    at::Tensor y = x.reshape({b, out, factor_t, factor_s, factor_s, t, h, w})
                       .permute({0, 1, 5, 2, 6, 3, 7, 4})
                       .reshape({b, out, t * factor_t, h * factor_s, w * factor_s});
    if (first_chunk) y = y.narrow(2, factor_t - 1, y.size(2) - (factor_t - 1));
    return y;
  }
};

struct DownBlock {
  std::vector<ResidualBlock> residuals;
  std::optional<Resample> resample;
  AvgDown shortcut;

  at::Tensor Run(const at::Tensor& x, Caches& caches) const {
    at::Tensor y = x;
    for (const ResidualBlock& r : residuals) y = r.Run(y, caches);
    if (resample) y = resample->Run(y, caches);
    return y + shortcut.Run(x);
  }
};

struct UpBlock {
  std::vector<ResidualBlock> residuals;
  std::optional<Resample> resample;
  std::optional<DupUp> shortcut;

  at::Tensor Run(const at::Tensor& x, Caches& caches) const {
    at::Tensor y = x;
    for (const ResidualBlock& r : residuals) y = r.Run(y, caches);
    if (resample) y = resample->Run(y, caches);
    return shortcut ? y + shortcut->Run(x, caches.first_chunk()) : y;
  }
};

using Layer = std::variant<ResidualBlock, AttentionBlock, Resample, DownBlock, UpBlock>;

at::Tensor RunLayers(const std::vector<Layer>& layers, at::Tensor x, Caches& caches) {
  for (const Layer& layer : layers) {
    x = std::visit([&](const auto& l) { return l.Run(x, caches); }, layer);
  }
  return x;
}

// Norm, SiLU and the final causal convolution of the encoder and decoder.
struct Head {
  at::Tensor gamma;
  CausalConv conv;
  at::Tensor Run(const at::Tensor& x, Caches& caches) const {
    return conv.RunCached(at::silu(ChannelRmsNorm(x, gamma)), caches.Next());
  }
};

Head ReadHead(WeightReader r, int64_t in, int64_t out) {
  return Head{r("head.0.gamma", {in, 1, 1, 1}),
              ReadConv(r.Scope("head.2"), in, out, {3, 3, 3}, {1, 1, 1})};
}

// Wan 2.1's encoder or decoder: a causal stem, a stack of layers, and the head.
struct Coder {
  CausalConv stem;
  std::vector<Layer> layers;
  Head head;

  at::Tensor Run(const at::Tensor& x, Caches& caches) const {
    caches.StartChunk();
    at::Tensor h = stem.RunCached(x, caches.Next());
    return head.Run(RunLayers(layers, h, caches), caches);
  }
};

std::vector<Layer> ReadMiddle(WeightReader r, int64_t dim) {
  std::vector<Layer> middle;
  middle.emplace_back(ReadResidual(r.Scope("middle.0"), dim, dim));
  middle.emplace_back(ReadAttention(r.Scope("middle.1"), dim));
  middle.emplace_back(ReadResidual(r.Scope("middle.2"), dim, dim));
  return middle;
}

// Stage widths: the encoder goes base, base*m1, base*m2, ...; the decoder mirrors it from the
// widest stage down.
std::vector<int64_t> EncoderWidths(int64_t base, const std::vector<int64_t>& mult) {
  std::vector<int64_t> dims{base};
  for (int64_t m : mult) dims.push_back(base * m);
  return dims;
}

std::vector<int64_t> DecoderWidths(int64_t base, const std::vector<int64_t>& mult) {
  std::vector<int64_t> dims{base * mult.back()};
  for (auto it = mult.rbegin(); it != mult.rend(); ++it) dims.push_back(base * *it);
  return dims;
}

// Every encoder ends with the middle blocks and a head to the latent moments (2 * z).
void CloseEncoder(Coder& enc, const WeightReader& r, int64_t width, int64_t z_dim) {
  for (Layer& layer : ReadMiddle(r, width)) enc.layers.push_back(std::move(layer));
  enc.head = ReadHead(r, width, 2 * z_dim);
}

// Every decoder starts with a stem from the latent and the middle blocks.
Coder OpenDecoder(const WeightReader& r, int64_t z_dim, int64_t width) {
  Coder dec;
  dec.stem = ReadConv(r.Scope("conv1"), z_dim, width, {3, 3, 3}, {1, 1, 1});
  dec.layers = ReadMiddle(r, width);
  return dec;
}

Coder ReadEncoder21(WeightReader r, const VaeConfig& c) {
  Coder enc;
  const std::vector<int64_t> dims = EncoderWidths(c.dim, c.dim_mult);
  enc.stem = ReadConv(r.Scope("conv1"), 3, dims[0], {3, 3, 3}, {1, 1, 1});
  int index = 0;
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    int64_t in = dims[i];
    for (int64_t k = 0; k < c.num_res_blocks; ++k) {
      enc.layers.emplace_back(ReadResidual(r.Scope("downsamples." + std::to_string(index++)), in, dims[i + 1]));
      in = dims[i + 1];
    }
    if (i + 2 < dims.size()) {
      const auto mode = c.temporal_downsample[i] ? ResampleMode::kDown3d : ResampleMode::kDown2d;
      enc.layers.emplace_back(ReadResample(r.Scope("downsamples." + std::to_string(index++)), in, mode, in));
    }
  }
  CloseEncoder(enc, r, dims.back(), c.z_dim);
  return enc;
}

Coder ReadDecoder21(WeightReader r, const VaeConfig& c) {
  const std::vector<int64_t> dims = DecoderWidths(c.dim, c.dim_mult);
  Coder dec = OpenDecoder(r, c.z_dim, dims[0]);
  int index = 0;
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    // Every level after the first starts from the halved width of the previous upsample.
    int64_t in = i == 0 ? dims[i] : dims[i] / 2;
    for (int64_t k = 0; k < c.num_res_blocks + 1; ++k) {
      dec.layers.emplace_back(ReadResidual(r.Scope("upsamples." + std::to_string(index++)), in, dims[i + 1]));
      in = dims[i + 1];
    }
    if (i + 2 < dims.size()) {
      const bool temporal = c.temporal_downsample[c.temporal_downsample.size() - 1 - i];
      const auto mode = temporal ? ResampleMode::kUp3d : ResampleMode::kUp2d;
      dec.layers.emplace_back(ReadResample(r.Scope("upsamples." + std::to_string(index++)), in, mode, in / 2));
    }
  }
  dec.head = ReadHead(r, dims.back(), 3);
  return dec;
}

bool FlagAt(const std::vector<bool>& flags, size_t i) { return i < flags.size() && flags[i]; }

Coder ReadEncoder22(WeightReader r, const VaeConfig& c) {
  Coder enc;
  const std::vector<int64_t> dims = EncoderWidths(c.dim, c.dim_mult);
  enc.stem = ReadConv(r.Scope("conv1"), 12, dims[0], {3, 3, 3}, {1, 1, 1});
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    WeightReader stage = r.Scope("downsamples." + std::to_string(i) + ".downsamples");
    const bool temporal = FlagAt(c.temporal_downsample, i);
    const bool down = i + 2 < dims.size();
    DownBlock block;
    int64_t in = dims[i];
    for (int64_t k = 0; k < c.num_res_blocks; ++k) {
      block.residuals.push_back(ReadResidual(stage.Scope(std::to_string(k)), in, dims[i + 1]));
      in = dims[i + 1];
    }
    if (down) {
      const auto mode = temporal ? ResampleMode::kDown3d : ResampleMode::kDown2d;
      block.resample = ReadResample(stage.Scope(std::to_string(c.num_res_blocks)), in, mode, in);
    }
    block.shortcut = AvgDown{dims[i + 1], temporal ? 2 : 1, down ? 2 : 1};
    enc.layers.emplace_back(std::move(block));
  }
  CloseEncoder(enc, r, dims.back(), c.z_dim);
  return enc;
}

Coder ReadDecoder22(WeightReader r, const VaeConfig& c) {
  const std::vector<int64_t> dims = DecoderWidths(c.dec_dim, c.dim_mult);
  Coder dec = OpenDecoder(r, c.z_dim, dims[0]);
  const std::vector<bool> temporal_up(c.temporal_downsample.rbegin(), c.temporal_downsample.rend());
  for (size_t i = 0; i + 1 < dims.size(); ++i) {
    WeightReader stage = r.Scope("upsamples." + std::to_string(i) + ".upsamples");
    const bool temporal = FlagAt(temporal_up, i);
    const bool up = i + 2 < dims.size();
    UpBlock block;
    int64_t in = dims[i];
    for (int64_t k = 0; k < c.num_res_blocks + 1; ++k) {
      block.residuals.push_back(ReadResidual(stage.Scope(std::to_string(k)), in, dims[i + 1]));
      in = dims[i + 1];
    }
    if (up) {
      const auto mode = temporal ? ResampleMode::kUp3d : ResampleMode::kUp2d;
      block.resample = ReadResample(stage.Scope(std::to_string(c.num_res_blocks + 1)), in, mode, in);
      block.shortcut = DupUp{dims[i], dims[i + 1], temporal ? 2 : 1, 2};
    }
    dec.layers.emplace_back(std::move(block));
  }
  dec.head = ReadHead(r, dims.back(), 12);
  return dec;
}

// Wan 2.2 folds each 2x2 pixel patch into channels (channel = c*4 + col*2 + row) around the VAE.
at::Tensor Patchify(const at::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), f = x.size(2), h = x.size(3) / 2, w = x.size(4) / 2;
  return x.reshape({b, c, f, h, 2, w, 2}).permute({0, 1, 6, 4, 2, 3, 5}).reshape({b, c * 4, f, h, w});
}

at::Tensor Unpatchify(const at::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1) / 4, f = x.size(2), h = x.size(3), w = x.size(4);
  return x.reshape({b, c, 2, 2, f, h, w}).permute({0, 1, 4, 5, 3, 6, 2}).reshape({b, c, f, h * 2, w * 2});
}

at::Tensor ChannelVector(const std::vector<float>& values) {
  return at::tensor(values, at::kFloat).view({1, -1, 1, 1, 1});
}

}  // namespace

struct WanVae::Impl {
  VaeConfig config;
  Coder encoder, decoder;
  at::Tensor conv1_w, conv1_b, conv2_w, conv2_b;
  at::Tensor mean, std, inv_std;
};

VaeConfig VaeConfig::Wan21() {
  VaeConfig c;
  c.mean = {-0.7571f, -0.7089f, -0.9113f, 0.1075f, -0.1745f, 0.9653f, -0.1517f, 1.5508f,
            0.4134f,  -0.0715f, 0.5517f,  -0.3632f, -0.1922f, -0.9497f, 0.2503f, -0.2921f};
  c.std = {2.8184f, 1.4541f, 2.3275f, 2.6558f, 1.2196f, 1.7708f, 2.6052f, 2.0743f,
           3.2687f, 2.1526f, 2.8652f, 1.5579f, 1.6382f, 1.1253f, 2.8251f, 1.9160f};
  return c;
}

VaeConfig VaeConfig::Wan22() {
  VaeConfig c;
  c.wan22 = true;
  c.dim = 160;
  c.dec_dim = 256;
  c.z_dim = 48;
  c.mean = {
            -0.2289f, -0.0052f, -0.1323f, -0.2339f, -0.2799f, 0.0174f, 0.1838f, 0.1557f,
            -0.1382f, 0.0542f, 0.2813f, 0.0891f, 0.1570f, -0.0098f, 0.0375f, -0.1825f,
            -0.2246f, -0.1207f, -0.0698f, 0.5109f, 0.2665f, -0.2108f, -0.2158f, 0.2502f,
            -0.2055f, -0.0322f, 0.1109f, 0.1567f, -0.0729f, 0.0899f, -0.2799f, -0.1230f,
            -0.0313f, -0.1649f, 0.0117f, 0.0723f, -0.2839f, -0.2083f, -0.0520f, 0.3748f,
            0.0152f, 0.1957f, 0.1433f, -0.2944f, 0.3573f, -0.0548f, -0.1681f, -0.0667f};
  c.std = {
            0.4765f, 1.0364f, 0.4514f, 1.1677f, 0.5313f, 0.4990f, 0.4818f, 0.5013f,
            0.8158f, 1.0344f, 0.5894f, 1.0901f, 0.6885f, 0.6165f, 0.8454f, 0.4978f,
            0.5759f, 0.3523f, 0.7135f, 0.6804f, 0.5833f, 1.4146f, 0.8986f, 0.5659f,
            0.7069f, 0.5338f, 0.4889f, 0.4917f, 0.4069f, 0.4999f, 0.6866f, 0.4093f,
            0.5709f, 0.6065f, 0.6415f, 0.4944f, 0.5726f, 1.2042f, 0.5458f, 1.6887f,
            0.3971f, 1.0600f, 0.3943f, 0.5537f, 0.5444f, 0.4089f, 0.7468f, 0.7744f};
  return c;
}

Result<VaeConfig> VaeConfig::FromJson(const nlohmann::json& json, bool wan22) {
  VaeConfig c = wan22 ? Wan22() : Wan21();
  try {
    c.dim = json.value("dim", c.dim);
    c.dec_dim = json.value("dec_dim", c.dec_dim);
    c.z_dim = json.value("z_dim", c.z_dim);
    c.dim_mult = json.value("dim_mult", c.dim_mult);
    c.num_res_blocks = json.value("num_res_blocks", c.num_res_blocks);
    c.temporal_downsample = json.value("temperal_downsample", c.temporal_downsample);
    if (!json.value("attn_scales", std::vector<double>{}).empty()) {
      return MakeError(ErrorCode::kInvalidInput, "VAE config: attn_scales are not supported");
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, std::string("VAE config: ") + e.what());
  }
  if (c.temporal_downsample.size() + 1 != c.dim_mult.size()) {
    return MakeError(ErrorCode::kInvalidInput, "VAE config: one temporal flag per downsample");
  }
  return c;
}

Result<WanVae> WanVae::Create(const VaeConfig& config, const Weights& weights, at::Device device) {
  if (static_cast<int64_t>(config.mean.size()) != config.z_dim ||
      static_cast<int64_t>(config.std.size()) != config.z_dim) {
    return MakeError(ErrorCode::kInvalidInput, "VAE config: one mean and std per latent channel");
  }
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  // Float32 on any device, as the official pipelines run the VAE.
  WeightReader w(weights, {device, at::kFloat});
  impl->encoder = config.wan22 ? ReadEncoder22(w.Scope("encoder"), config)
                               : ReadEncoder21(w.Scope("encoder"), config);
  impl->decoder = config.wan22 ? ReadDecoder22(w.Scope("decoder"), config)
                               : ReadDecoder21(w.Scope("decoder"), config);
  const int64_t z = config.z_dim;
  impl->conv1_w = w("conv1.weight", {2 * z, 2 * z, 1, 1, 1});
  impl->conv1_b = w("conv1.bias", {2 * z});
  impl->conv2_w = w("conv2.weight", {z, z, 1, 1, 1});
  impl->conv2_b = w("conv2.bias", {z});
  RETURN_IF_ERROR(w.status());
  impl->mean = ChannelVector(config.mean).to(device);
  impl->std = ChannelVector(config.std).to(device);
  impl->inv_std = 1.0f / impl->std;
  return WanVae(std::move(impl));
}

WanVae::WanVae(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WanVae::~WanVae() = default;
WanVae::WanVae(WanVae&&) noexcept = default;
WanVae& WanVae::operator=(WanVae&&) noexcept = default;

at::Tensor WanVae::Encode(const at::Tensor& video) const {
  const at::Tensor x = impl_->config.wan22 ? Patchify(video.unsqueeze(0)) : video.unsqueeze(0);
  const int64_t frames = x.size(2);
  Caches caches;
  std::vector<at::Tensor> chunks;
  chunks.push_back(impl_->encoder.Run(x.narrow(2, 0, 1), caches));
  // Frames past the last whole group of four are dropped, as the reference does.
  for (int64_t start = 1; start + 4 <= frames; start += 4) {
    chunks.push_back(impl_->encoder.Run(x.narrow(2, start, 4), caches));
  }
  const at::Tensor moments = at::conv3d(at::cat(chunks, 2), impl_->conv1_w, impl_->conv1_b);
  const at::Tensor mu = moments.narrow(1, 0, impl_->config.z_dim);
  return ((mu - impl_->mean) * impl_->inv_std).squeeze(0);
}

at::Tensor WanVae::Decode(const at::Tensor& latent) const {
  const at::Tensor z = latent.unsqueeze(0) / impl_->inv_std + impl_->mean;
  const at::Tensor x = at::conv3d(z, impl_->conv2_w, impl_->conv2_b);
  Caches caches;
  std::vector<at::Tensor> frames;
  for (int64_t i = 0; i < x.size(2); ++i) {
    frames.push_back(impl_->decoder.Run(x.narrow(2, i, 1), caches));
  }
  const at::Tensor video = at::cat(frames, 2);
  return (impl_->config.wan22 ? Unpatchify(video) : video).squeeze(0);
}

}  // namespace wanserve::engine
