#include "engine/dit.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "engine/ops.h"

namespace wanserve::engine {
namespace {

constexpr int64_t kRopePositions = 1024;
constexpr double kRopeTheta = 10000.0;

// Angles of the rotary embedding for positions [0, kRopePositions) and pairs of a `dim`-wide
// part: position * theta^(-2k/dim), in float64 as the reference computes them.
at::Tensor RopeAngles(int64_t dim) {
  const at::Tensor exponents = at::arange(0, dim, 2, at::kDouble) / static_cast<double>(dim);
  const at::Tensor inv_freq = 1.0 / at::pow(kRopeTheta, exponents);
  return at::outer(at::arange(kRopePositions, at::kDouble), inv_freq);
}

// Sinusoidal timestep embedding in float64, cosine half first, then cast to float32.
at::Tensor TimestepEmbedding(const at::Tensor& t, int64_t freq_dim) {
  const int64_t half = freq_dim / 2;
  const at::Tensor position = t.to(at::kDouble).flatten();
  const at::Tensor freqs =
      at::pow(10000.0, -at::arange(half, position.options()) / static_cast<double>(half));
  const at::Tensor sinusoid = at::outer(position, freqs);
  return at::cat({at::cos(sinusoid), at::sin(sinusoid)}, 1).to(at::kFloat);
}

// The six (or two) modulation vectors as [B, S', n, dim], S' = 1 for a timestep per sample.
at::Tensor Modulate(const at::Tensor& learned, const at::Tensor& e) {
  return learned.view({1, 1, learned.size(1), learned.size(2)}) + e;
}

}  // namespace

Result<DitConfig> DitConfig::FromJson(const nlohmann::json& json) {
  DitConfig c;
  try {
    c.model_type = json.value("model_type", c.model_type);
    if (json.contains("patch_size")) {
      const auto p = json.at("patch_size").get<std::vector<int64_t>>();
      if (p.size() != 3) return MakeError(ErrorCode::kInvalidInput, "DiT config: patch_size");
      c.patch_size = {p[0], p[1], p[2]};
    }
    c.text_len = json.value("text_len", c.text_len);
    c.in_dim = json.value("in_dim", c.in_dim);
    c.dim = json.value("dim", c.dim);
    c.ffn_dim = json.value("ffn_dim", c.ffn_dim);
    c.freq_dim = json.value("freq_dim", c.freq_dim);
    c.text_dim = json.value("text_dim", c.text_dim);
    c.out_dim = json.value("out_dim", c.out_dim);
    c.num_heads = json.value("num_heads", c.num_heads);
    c.num_layers = json.value("num_layers", c.num_layers);
    c.qk_norm = json.value("qk_norm", c.qk_norm);
    c.cross_attn_norm = json.value("cross_attn_norm", c.cross_attn_norm);
    c.eps = json.value("eps", c.eps);
    if (json.contains("vace_layers")) c.vace_layers = json.at("vace_layers").get<std::vector<int64_t>>();
    c.vace_in_dim = json.value("vace_in_dim", c.vace_in_dim);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, std::string("DiT config: ") + e.what());
  }
  if (c.model_type != "t2v" && c.model_type != "ti2v" && c.model_type != "vace") {
    return MakeError(ErrorCode::kInvalidInput,
                     "DiT config: model_type " + c.model_type + " is not supported yet");
  }
  if ((c.model_type == "vace") != c.vace()) {
    return MakeError(ErrorCode::kInvalidInput, "DiT config: model_type vace and vace_layers go together");
  }
  if (c.vace()) {
    if (c.vace_in_dim <= 0) return MakeError(ErrorCode::kInvalidInput, "DiT config: vace_in_dim");
    std::vector<int64_t> seen;
    for (int64_t layer : c.vace_layers) {
      if (layer < 0 || layer >= c.num_layers || std::find(seen.begin(), seen.end(), layer) != seen.end()) {
        return MakeError(ErrorCode::kInvalidInput, "DiT config: vace_layers must be distinct main blocks");
      }
      seen.push_back(layer);
    }
  }
  if (c.dim % c.num_heads != 0 || (c.dim / c.num_heads) % 2 != 0) {
    return MakeError(ErrorCode::kInvalidInput, "DiT config: dim must split into even heads");
  }
  return c;
}

Result<WanDiT> WanDiT::Create(const DitConfig& config, const Weights& weights, Placement placement) {
  WanDiT m;
  m.config_ = config;
  m.compute_ = placement.compute;
  // As the official model under bf16 autocast: patch embedding, attention, feed-forward and the
  // text embedding in the compute dtype; time embedding, modulation, norms and head in float32.
  WeightReader w(weights, placement);
  const int64_t d = config.dim;
  const auto& p = config.patch_size;
  m.patch_w_ = w.Compute("patch_embedding.weight", {d, config.in_dim, p[0], p[1], p[2]});
  m.patch_b_ = w.Compute("patch_embedding.bias", {d});
  m.text0_w_ = w.Compute("text_embedding.0.weight", {d, config.text_dim});
  m.text0_b_ = w.Compute("text_embedding.0.bias", {d});
  m.text2_w_ = w.Compute("text_embedding.2.weight", {d, d});
  m.text2_b_ = w.Compute("text_embedding.2.bias", {d});
  m.time0_w_ = w("time_embedding.0.weight", {d, config.freq_dim});
  m.time0_b_ = w("time_embedding.0.bias", {d});
  m.time2_w_ = w("time_embedding.2.weight", {d, d});
  m.time2_b_ = w("time_embedding.2.bias", {d});
  m.proj_w_ = w("time_projection.1.weight", {6 * d, d});
  m.proj_b_ = w("time_projection.1.bias", {6 * d});
  for (int64_t i = 0; i < config.num_layers; ++i) m.blocks_.push_back(m.ReadBlock(w.Scope("blocks." + std::to_string(i))));
  m.hint_of_block_.assign(static_cast<size_t>(config.num_layers), -1);
  if (config.vace()) {
    m.vace_patch_w_ = w.Compute("vace_patch_embedding.weight", {d, config.vace_in_dim, p[0], p[1], p[2]});
    m.vace_patch_b_ = w.Compute("vace_patch_embedding.bias", {d});
    for (size_t j = 0; j < config.vace_layers.size(); ++j) {
      WeightReader b = w.Scope("vace_blocks." + std::to_string(j));
      VaceBlock vace{m.ReadBlock(b), {}, {}, {}, {}};
      if (j == 0) {
        vace.before_w = b.Compute("before_proj.weight", {d, d});
        vace.before_b = b.Compute("before_proj.bias", {d});
      }
      vace.after_w = b.Compute("after_proj.weight", {d, d});
      vace.after_b = b.Compute("after_proj.bias", {d});
      m.vace_blocks_.push_back(std::move(vace));
      m.hint_of_block_[static_cast<size_t>(config.vace_layers[j])] = static_cast<int>(j);
    }
  }
  const int64_t patch_volume = p[0] * p[1] * p[2];
  m.head_w_ = w("head.head.weight", {patch_volume * config.out_dim, d});
  m.head_b_ = w("head.head.bias", {patch_volume * config.out_dim});
  m.head_modulation_ = w("head.modulation", {1, 2, d});
  RETURN_IF_ERROR(w.status());

  const int64_t head_dim = d / config.num_heads;
  const int64_t part = head_dim / 6;
  m.rope_angles_f_ = RopeAngles(head_dim - 4 * part).to(placement.device);
  m.rope_angles_h_ = RopeAngles(2 * part).to(placement.device);
  m.rope_angles_w_ = RopeAngles(2 * part).to(placement.device);
  return m;
}

WanDiT::Block WanDiT::ReadBlock(WeightReader b) const {
  const int64_t d = config_.dim;
  auto read_attention = [&](WeightReader r) {
    AttentionWeights a;
    a.q_w = r.Compute("q.weight", {d, d});
    a.q_b = r.Compute("q.bias", {d});
    a.k_w = r.Compute("k.weight", {d, d});
    a.k_b = r.Compute("k.bias", {d});
    a.v_w = r.Compute("v.weight", {d, d});
    a.v_b = r.Compute("v.bias", {d});
    a.o_w = r.Compute("o.weight", {d, d});
    a.o_b = r.Compute("o.bias", {d});
    if (config_.qk_norm) {
      a.norm_q = r("norm_q.weight", {d});
      a.norm_k = r("norm_k.weight", {d});
    }
    return a;
  };
  Block block;
  block.self_attn = read_attention(b.Scope("self_attn"));
  block.cross_attn = read_attention(b.Scope("cross_attn"));
  if (config_.cross_attn_norm) {
    block.norm3_w = b("norm3.weight", {d});
    block.norm3_b = b("norm3.bias", {d});
  }
  block.ffn0_w = b.Compute("ffn.0.weight", {config_.ffn_dim, d});
  block.ffn0_b = b.Compute("ffn.0.bias", {config_.ffn_dim});
  block.ffn2_w = b.Compute("ffn.2.weight", {d, config_.ffn_dim});
  block.ffn2_b = b.Compute("ffn.2.bias", {d});
  block.modulation = b("modulation", {1, 6, d});
  return block;
}

at::Tensor WanDiT::Attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const {
  // The official flash attention casts q, k and v to bf16 and its answer back to q's dtype.
  return Attention(q.to(compute_), k.to(compute_), v.to(compute_)).to(q.scalar_type());
}

at::Tensor WanDiT::QkNorm(const at::Tensor& x, const at::Tensor& weight) const {
  return config_.qk_norm ? RmsNorm(x, weight, config_.eps) : x;
}

at::Tensor WanDiT::Rope(const at::Tensor& x,
                        const std::vector<std::array<int64_t, 3>>& grids) const {
  const int64_t heads = x.size(2);
  const int64_t pairs = x.size(3) / 2;
  std::vector<at::Tensor> samples;
  for (size_t i = 0; i < grids.size(); ++i) {
    const auto [f, h, w] = grids[i];
    const int64_t length = f * h * w;
    const int64_t cf = rope_angles_f_.size(1);
    const int64_t ch = rope_angles_h_.size(1);
    const int64_t cw = rope_angles_w_.size(1);
    const at::Tensor angles =
        at::cat({rope_angles_f_.narrow(0, 0, f).view({f, 1, 1, cf}).expand({f, h, w, cf}),
                 rope_angles_h_.narrow(0, 0, h).view({1, h, 1, ch}).expand({f, h, w, ch}),
                 rope_angles_w_.narrow(0, 0, w).view({1, 1, w, cw}).expand({f, h, w, cw})},
                -1)
            .reshape({length, 1, pairs});
    const at::Tensor pairs_in =
        x[static_cast<int64_t>(i)].narrow(0, 0, length).to(at::kDouble).reshape(
            {length, heads, pairs, 2});
    const at::Tensor re = pairs_in.select(3, 0);
    const at::Tensor im = pairs_in.select(3, 1);
    const at::Tensor cos = at::cos(angles);
    const at::Tensor sin = at::sin(angles);
    const at::Tensor rotated =
        at::stack({re * cos - im * sin, re * sin + im * cos}, -1).flatten(2).to(x.scalar_type());
    const at::Tensor rest = x[static_cast<int64_t>(i)].narrow(0, length, x.size(1) - length);
    samples.push_back(at::cat({rotated, rest}, 0));
  }
  return at::stack(samples);
}

at::Tensor WanDiT::SelfAttention(const AttentionWeights& a, const at::Tensor& x,
                                 const std::vector<int64_t>& lengths,
                                 const std::vector<std::array<int64_t, 3>>& grids) const {
  const int64_t batch = x.size(0);
  const int64_t seq = x.size(1);
  const int64_t heads = config_.num_heads;
  const int64_t head_dim = config_.dim / heads;
  const at::Tensor q = Rope(QkNorm(Linear(x, a.q_w, a.q_b), a.norm_q).view({batch, seq, heads, head_dim}), grids);
  const at::Tensor k = Rope(QkNorm(Linear(x, a.k_w, a.k_b), a.norm_k).view({batch, seq, heads, head_dim}), grids);
  const at::Tensor v = Linear(x, a.v_w, a.v_b).view({batch, seq, heads, head_dim});
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < batch; ++i) {
    // Each sample attends to its own tokens only; its padded queries are computed but unused.
    const int64_t len = lengths[static_cast<size_t>(i)];
    out.push_back(Attend(q[i], k[i].narrow(0, 0, len), v[i].narrow(0, 0, len)));
  }
  return Linear(at::stack(out).flatten(2), a.o_w, a.o_b);
}

at::Tensor WanDiT::CrossAttention(const AttentionWeights& a, const at::Tensor& x,
                                  const at::Tensor& context) const {
  const int64_t batch = x.size(0);
  const int64_t heads = config_.num_heads;
  const int64_t head_dim = config_.dim / heads;
  const at::Tensor q = QkNorm(Linear(x, a.q_w, a.q_b), a.norm_q).view({batch, -1, heads, head_dim});
  const at::Tensor k =
      QkNorm(Linear(context, a.k_w, a.k_b), a.norm_k).view({batch, -1, heads, head_dim});
  const at::Tensor v = Linear(context, a.v_w, a.v_b).view({batch, -1, heads, head_dim});
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < batch; ++i) out.push_back(Attend(q[i], k[i], v[i]));
  return Linear(at::stack(out).flatten(2), a.o_w, a.o_b);
}

at::Tensor WanDiT::Embed(const std::vector<at::Tensor>& x, const at::Tensor& weight, const at::Tensor& bias,
                         int64_t seq_len, std::vector<std::array<int64_t, 3>>* grids,
                         std::vector<int64_t>* lengths) const {
  const auto& p = config_.patch_size;
  std::vector<at::Tensor> tokens;
  for (const at::Tensor& latent : x) {
    const at::Tensor patches = at::conv3d(latent.unsqueeze(0).to(compute_), weight, bias, {p[0], p[1], p[2]});
    if (grids) grids->push_back({patches.size(2), patches.size(3), patches.size(4)});
    const at::Tensor flat = patches.flatten(2).transpose(1, 2);  // [1, L, dim]
    if (lengths) lengths->push_back(flat.size(1));
    TORCH_CHECK(flat.size(1) <= seq_len, "seq_len ", seq_len, " is shorter than a sample's ", flat.size(1), " tokens");
    tokens.push_back(at::cat({flat, flat.new_zeros({1, seq_len - flat.size(1), config_.dim})}, 1));
  }
  return at::cat(tokens);
}

at::Tensor WanDiT::RunBlock(const Block& block, const at::Tensor& h_in, const BlockInputs& in) const {
  const at::Tensor mod = Modulate(block.modulation, in.e0);
  auto chunk = [&](int64_t i) { return mod.select(2, i); };
  at::Tensor h = h_in;
  const at::Tensor attn_in = LayerNorm(h, config_.eps) * (1 + chunk(1)) + chunk(0);
  h = h + SelfAttention(block.self_attn, attn_in, in.lengths, in.grids) * chunk(2);
  const at::Tensor cross_in = config_.cross_attn_norm ? LayerNorm(h, config_.eps, block.norm3_w, block.norm3_b) : h;
  h = h + CrossAttention(block.cross_attn, cross_in, in.text);
  const at::Tensor ffn_in = LayerNorm(h, config_.eps) * (1 + chunk(4)) + chunk(3);
  return h + Linear(GeluTanh(Linear(ffn_in, block.ffn0_w, block.ffn0_b)), block.ffn2_w, block.ffn2_b) * chunk(5);
}

std::vector<at::Tensor> WanDiT::VaceHints(const VaceInput& vace, const at::Tensor& x, int64_t seq_len,
                                          const BlockInputs& in) const {
  TORCH_CHECK(vace.context.size() == in.lengths.size(), "one VACE context per sample");
  // The context takes the latent's grid, so the same rotary positions and key lengths apply.
  at::Tensor c = Embed(vace.context, vace_patch_w_, vace_patch_b_, seq_len, nullptr, nullptr);
  std::vector<at::Tensor> hints;
  for (size_t j = 0; j < vace_blocks_.size(); ++j) {
    const VaceBlock& v = vace_blocks_[j];
    if (j == 0) c = Linear(c, v.before_w, v.before_b) + x;
    c = RunBlock(v.block, c, in);
    hints.push_back(Linear(c, v.after_w, v.after_b));
  }
  return hints;
}

std::vector<at::Tensor> WanDiT::Forward(const std::vector<at::Tensor>& x, const at::Tensor& t,
                                        const std::vector<at::Tensor>& context, int64_t seq_len,
                                        const VaceInput* vace) const {
  const auto& p = config_.patch_size;
  const int64_t batch = static_cast<int64_t>(x.size());
  const int64_t d = config_.dim;
  TORCH_CHECK(config_.vace() == (vace != nullptr), config_.vace() ? "a VACE model needs its context"
                                                                 : "this model has no VACE blocks");

  std::vector<std::array<int64_t, 3>> grids;
  std::vector<int64_t> lengths;
  at::Tensor h = Embed(x, patch_w_, patch_b_, seq_len, &grids, &lengths);

  // Time: [B, S', dim] with S' = 1 for a timestep per sample, S' = seq_len per token.
  const int64_t steps_per_sample = t.dim() == 1 ? 1 : t.size(1);
  TORCH_CHECK(t.size(0) == batch, "one timestep row per sample");
  const at::Tensor e = Linear(at::silu(Linear(TimestepEmbedding(t, config_.freq_dim), time0_w_,
                                              time0_b_)),
                              time2_w_, time2_b_)
                           .view({batch, steps_per_sample, d});
  const at::Tensor e0 = Linear(at::silu(e), proj_w_, proj_b_).view({batch, steps_per_sample, 6, d});

  // Text: every prompt zero-padded to text_len before the MLP, so the padding rows take part.
  std::vector<at::Tensor> padded;
  for (const at::Tensor& c : context) {
    padded.push_back(at::cat({c, c.new_zeros({config_.text_len - c.size(0), c.size(1)})}));
  }
  const at::Tensor text =
      Linear(GeluTanh(Linear(at::stack(padded), text0_w_, text0_b_)), text2_w_, text2_b_);

  const BlockInputs in{e0, lengths, grids, text};
  // Every hint is made before the first main block, from that block's input.
  const std::vector<at::Tensor> hints = vace ? VaceHints(*vace, h, seq_len, in) : std::vector<at::Tensor>();
  for (size_t i = 0; i < blocks_.size(); ++i) {
    h = RunBlock(blocks_[i], h, in);
    if (const int hint = hint_of_block_[i]; hint >= 0) h = h + hints[static_cast<size_t>(hint)] * vace->scale;
  }

  // The head is modulated by the time embedding itself, not by its six-way projection.
  const at::Tensor head_mod = Modulate(head_modulation_, e.unsqueeze(2));
  const at::Tensor out = Linear(
      LayerNorm(h, config_.eps) * (1 + head_mod.select(2, 1)) + head_mod.select(2, 0), head_w_,
      head_b_);

  std::vector<at::Tensor> result;
  const int64_t c = config_.out_dim;
  for (int64_t i = 0; i < batch; ++i) {
    const auto [f, gh, gw] = grids[static_cast<size_t>(i)];
    const at::Tensor u = out[i].narrow(0, 0, f * gh * gw).reshape({f, gh, gw, p[0], p[1], p[2], c});
    result.push_back(
        u.permute({6, 0, 3, 1, 4, 2, 5}).reshape({c, f * p[0], gh * p[1], gw * p[2]}).to(at::kFloat));
  }
  return result;
}

}  // namespace wanserve::engine
