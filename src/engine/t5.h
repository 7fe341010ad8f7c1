#pragma once
// The UMT5 encoder of the Wan pipelines (T5Encoder of wan/modules/t5.py): T5 RMS norms, attention
// without 1/sqrt(d) scaling, a bidirectional relative position bias per layer (or shared), and
// a tanh-GELU gated feed-forward.
#include <ATen/ATen.h>

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "common/error.h"
#include "engine/weights.h"

namespace wanserve::engine {

struct T5Config {
  int64_t vocab = 256384;
  int64_t dim = 4096;
  int64_t dim_attn = 4096;
  int64_t dim_ffn = 10240;
  int64_t num_heads = 64;
  int64_t num_layers = 24;
  int64_t num_buckets = 32;
  bool shared_pos = false;

  static Result<T5Config> FromJson(const nlohmann::json& json);
};

class T5Encoder {
 public:
  // With `kept_on_host`, the weights stay in host memory in the compute dtype (pinned when the
  // device is a GPU) and each block goes to the device only while it runs, so the 11 GB of
  // UMT5-XXL never sit beside the DiT in device memory (the official --t5_cpu / offload, at the
  // cost of one upload per encode).
  static Result<T5Encoder> Create(const T5Config& config, const Weights& weights, Placement placement = {},
                                  bool kept_on_host = false);

  // ids, mask: int64 [B, L]; mask is 1 on real tokens. Returns the hidden states [B, L, dim]
  // of every position, padding included.
  at::Tensor Forward(const at::Tensor& ids, const at::Tensor& mask) const;
  // What the pipelines hand to the DiT: each sample cut to its number of real tokens.
  std::vector<at::Tensor> Encode(const at::Tensor& ids, const at::Tensor& mask) const;

 private:
  struct Block {
    at::Tensor norm1, q, k, v, o, norm2, gate, fc1, fc2, pos_embedding;
  };
  at::Tensor PositionBias(const at::Tensor& embedding, int64_t length) const;

  // The block's weights where they compute: themselves, or copies on the device.
  Block OnDevice(const Block& block) const;

  T5Config config_;
  at::Device device_ = at::kCPU;
  bool kept_on_host_ = false;
  at::Tensor token_embedding_;
  at::Tensor shared_pos_embedding_;
  std::vector<Block> blocks_;
  at::Tensor norm_;
};

}  // namespace wanserve::engine
