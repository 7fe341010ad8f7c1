#include "engine/t5.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "engine/ops.h"

namespace wanserve::engine {
namespace {
constexpr double kEps = 1e-6;
constexpr int64_t kMaxDistance = 128;

// T5's norm: no mean subtraction, no bias.
at::Tensor T5Norm(const at::Tensor& x, const at::Tensor& weight) {
  return RmsNorm(x, weight, kEps);
}

// Bucket of each relative position (key - query), bidirectional: half the buckets for each
// sign, exact below num_buckets/4, logarithmic up to max distance, then clamped.
at::Tensor RelativeBuckets(int64_t length, int64_t num_buckets, at::Device device) {
  const at::Tensor pos = at::arange(length, at::TensorOptions().dtype(at::kLong).device(device));
  at::Tensor rel = pos.unsqueeze(0) - pos.unsqueeze(1);
  const int64_t half = num_buckets / 2;
  at::Tensor buckets = (rel > 0).to(at::kLong) * half;
  rel = rel.abs();
  const int64_t max_exact = half / 2;
  at::Tensor large =
      max_exact + (at::log(rel.to(at::kFloat) / static_cast<float>(max_exact)) /
                   std::log(static_cast<double>(kMaxDistance) / static_cast<double>(max_exact)) *
                   static_cast<double>(half - max_exact))
                      .to(at::kLong);
  large = at::minimum(large, at::full_like(large, half - 1));
  return buckets + at::where(rel < max_exact, rel, large);
}

}  // namespace

Result<T5Config> T5Config::FromJson(const nlohmann::json& json) {
  T5Config c;
  try {
    c.vocab = json.at("vocab").get<int64_t>();
    c.dim = json.at("dim").get<int64_t>();
    c.dim_attn = json.at("dim_attn").get<int64_t>();
    c.dim_ffn = json.at("dim_ffn").get<int64_t>();
    c.num_heads = json.at("num_heads").get<int64_t>();
    c.num_layers = json.at("num_layers").get<int64_t>();
    c.num_buckets = json.at("num_buckets").get<int64_t>();
    c.shared_pos = json.value("shared_pos", false);
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidInput, std::string("T5 config: ") + e.what());
  }
  return c;
}

Result<T5Encoder> T5Encoder::Create(const T5Config& config, const Weights& weights, Placement placement,
                                     bool kept_on_host) {
  T5Encoder model;
  model.config_ = config;
  model.device_ = placement.device;
  model.kept_on_host_ = kept_on_host && !placement.device.is_cpu();
  // Every weight in the compute dtype: the official encoder runs wholly in bf16 on GPU (its
  // norms and softmax widen to float32 inside).
  WeightReader w(weights, model.kept_on_host_ ? Placement{at::kCPU, placement.compute} : placement);
  const int64_t d = config.dim;
  const int64_t a = config.dim_attn;
  const int64_t f = config.dim_ffn;
  model.token_embedding_ = w.Compute("token_embedding.weight", {config.vocab, d});
  if (config.shared_pos) {
    model.shared_pos_embedding_ =
        w.Compute("pos_embedding.embedding.weight", {config.num_buckets, config.num_heads});
  }
  for (int64_t i = 0; i < config.num_layers; ++i) {
    WeightReader b = w.Scope("blocks." + std::to_string(i));
    Block block;
    block.norm1 = b.Compute("norm1.weight", {d});
    block.q = b.Compute("attn.q.weight", {a, d});
    block.k = b.Compute("attn.k.weight", {a, d});
    block.v = b.Compute("attn.v.weight", {a, d});
    block.o = b.Compute("attn.o.weight", {d, a});
    block.norm2 = b.Compute("norm2.weight", {d});
    block.gate = b.Compute("ffn.gate.0.weight", {f, d});
    block.fc1 = b.Compute("ffn.fc1.weight", {f, d});
    block.fc2 = b.Compute("ffn.fc2.weight", {d, f});
    if (!config.shared_pos) {
      block.pos_embedding =
          b.Compute("pos_embedding.embedding.weight", {config.num_buckets, config.num_heads});
    }
    model.blocks_.push_back(std::move(block));
  }
  model.norm_ = w.Compute("norm.weight", {d});
  RETURN_IF_ERROR(w.status());
  if (model.kept_on_host_) {
    // Pinned pages upload without a staging copy; the lookup table and final norm are small or
    // used once, the blocks are what streams.
    for (Block& b : model.blocks_) {
      for (at::Tensor* t : {&b.norm1, &b.q, &b.k, &b.v, &b.o, &b.norm2, &b.gate, &b.fc1, &b.fc2, &b.pos_embedding}) {
        if (t->defined()) *t = t->pin_memory();
      }
    }
    model.norm_ = model.norm_.to(placement.device);
    if (model.shared_pos_embedding_.defined()) model.shared_pos_embedding_ = model.shared_pos_embedding_.to(placement.device);
  }
  return model;
}

T5Encoder::Block T5Encoder::OnDevice(const Block& block) const {
  if (!kept_on_host_) return block;
  Block b;
  const auto up = [&](const at::Tensor& t) { return t.defined() ? t.to(device_, /*non_blocking=*/true) : t; };
  b.norm1 = up(block.norm1);
  b.q = up(block.q);
  b.k = up(block.k);
  b.v = up(block.v);
  b.o = up(block.o);
  b.norm2 = up(block.norm2);
  b.gate = up(block.gate);
  b.fc1 = up(block.fc1);
  b.fc2 = up(block.fc2);
  b.pos_embedding = up(block.pos_embedding);
  return b;
}

at::Tensor T5Encoder::PositionBias(const at::Tensor& embedding, int64_t length) const {
  const at::Tensor buckets = RelativeBuckets(length, config_.num_buckets, embedding.device());
  // [L, L, heads] → [1, heads, L, L]
  return at::embedding(embedding, buckets).permute({2, 0, 1}).unsqueeze(0);
}

at::Tensor T5Encoder::Forward(const at::Tensor& ids, const at::Tensor& mask) const {
  const int64_t batch = ids.size(0);
  const int64_t length = ids.size(1);
  const int64_t heads = config_.num_heads;
  const int64_t head_dim = config_.dim_attn / heads;
  // Kept on the host, the 2 GB lookup table is read there and only the rows go up.
  at::Tensor x = kept_on_host_ ? at::embedding(token_embedding_, ids.to(at::kCPU)).to(device_)
                               : at::embedding(token_embedding_, ids);
  // Masked keys get the dtype's minimum in place of their bias, as the reference does.
  const at::Tensor key_masked = (mask == 0).view({batch, 1, 1, length});
  const double lowest = x.scalar_type() == at::kBFloat16
                            ? static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest())
                            : static_cast<double>(std::numeric_limits<float>::lowest());
  at::Tensor shared_bias;
  if (config_.shared_pos) shared_bias = PositionBias(shared_pos_embedding_, length);
  for (const Block& stored : blocks_) {
    const Block block = OnDevice(stored);
    const at::Tensor bias =
        (config_.shared_pos ? shared_bias : PositionBias(block.pos_embedding, length))
            .expand({batch, heads, length, length})
            .masked_fill(key_masked, lowest);
    const at::Tensor h = T5Norm(x, block.norm1);
    const at::Tensor q = Linear(h, block.q).view({batch, length, heads, head_dim});
    const at::Tensor k = Linear(h, block.k).view({batch, length, heads, head_dim});
    const at::Tensor v = Linear(h, block.v).view({batch, length, heads, head_dim});
    at::Tensor scores = at::einsum("binc,bjnc->bnij", {q, k}) + bias;
    const at::Tensor probs = at::softmax(scores.to(at::kFloat), -1).to(scores.scalar_type());
    const at::Tensor attn =
        at::einsum("bnij,bjnc->binc", {probs, v}).reshape({batch, length, heads * head_dim});
    x = x + Linear(attn, block.o);
    const at::Tensor g = T5Norm(x, block.norm2);
    x = x + Linear(Linear(g, block.fc1) * GeluTanh(Linear(g, block.gate)), block.fc2);
  }
  return T5Norm(x, norm_);
}

std::vector<at::Tensor> T5Encoder::Encode(const at::Tensor& ids, const at::Tensor& mask) const {
  const at::Tensor hidden = Forward(ids, mask);
  const at::Tensor lengths = mask.gt(0).sum(1);
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < ids.size(0); ++i) {
    out.push_back(hidden[i].narrow(0, 0, lengths[i].item<int64_t>()));
  }
  return out;
}

}  // namespace wanserve::engine
