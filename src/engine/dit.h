#pragma once
// The Wan diffusion transformer (WanModel of wan/modules/model.py): 3D patch embedding, blocks
// of self-attention with QK RMS norm and 3D rotary embedding, cross-attention on the text, and a
// feed-forward, each modulated by the time embedding; then the modulated head and unpatchify.
// One class serves Wan 2.1 (a timestep per sample) and Wan 2.2 (a timestep per token, TI2V),
// and Wan2.1-VACE (VaceWanModel of wan/modules/vace_model.py): a second stack of blocks reads a
// VACE context and adds its hints to chosen main blocks.
#include <ATen/ATen.h>

#include <array>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "engine/weights.h"

namespace wanserve::engine {

struct DitConfig {
  std::string model_type = "t2v";  // t2v (Wan 2.1 / 2.2 A14B), ti2v (Wan 2.2 5B) or vace
  std::array<int64_t, 3> patch_size{1, 2, 2};
  int64_t text_len = 512;
  int64_t in_dim = 16;
  int64_t dim = 2048;
  int64_t ffn_dim = 8192;
  int64_t freq_dim = 256;
  int64_t text_dim = 4096;
  int64_t out_dim = 16;
  int64_t num_heads = 16;
  int64_t num_layers = 32;
  bool qk_norm = true;
  bool cross_attn_norm = true;
  double eps = 1e-6;
  // VACE: the main blocks that receive a hint, in the order of the VACE blocks that make them,
  // and the channels of the VACE context (16 inactive + 16 reactive latent + 64 mask). Empty
  // and 0 without VACE.
  std::vector<int64_t> vace_layers;
  int64_t vace_in_dim = 0;

  bool vace() const { return !vace_layers.empty(); }
  static Result<DitConfig> FromJson(const nlohmann::json& json);
};

// The VACE context of each sample ([vace_in_dim, F, H, W], the latent's grid) and how much of
// its hints the main blocks take.
struct VaceInput {
  std::vector<at::Tensor> context;
  double scale = 1.0;
};

class WanDiT {
 public:
  static Result<WanDiT> Create(const DitConfig& config, const Weights& weights, Placement placement = {});

  // x: latents [in_dim, F, H, W] (sizes may differ); t: float [B] (one timestep per sample) or
  // [B, seq_len] (one per token); context: text states [L_i, text_dim], L_i <= text_len;
  // seq_len: the padded token count (at least every sample's); vace: required by a VACE model,
  // refused by others. Returns [out_dim, F, H, W] each.
  std::vector<at::Tensor> Forward(const std::vector<at::Tensor>& x, const at::Tensor& t,
                                  const std::vector<at::Tensor>& context, int64_t seq_len,
                                  const VaceInput* vace = nullptr) const;
  const DitConfig& config() const { return config_; }

 private:
  struct AttentionWeights {
    at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b, norm_q, norm_k;
  };
  struct Block {
    AttentionWeights self_attn, cross_attn;
    at::Tensor norm3_w, norm3_b, ffn0_w, ffn0_b, ffn2_w, ffn2_b, modulation;
  };
  // A VACE block is a whole transformer block; the first also projects the context in
  // (before_proj), each projects its hint out (after_proj).
  struct VaceBlock {
    Block block;
    at::Tensor before_w, before_b, after_w, after_b;
  };
  // What every block of one forward shares.
  struct BlockInputs {
    const at::Tensor& e0;
    const std::vector<int64_t>& lengths;
    const std::vector<std::array<int64_t, 3>>& grids;
    const at::Tensor& text;
  };
  Block ReadBlock(WeightReader b) const;
  at::Tensor RunBlock(const Block& block, const at::Tensor& h, const BlockInputs& in) const;
  // Patch-embeds, flattens and zero-pads each sample to seq_len: [B, seq_len, dim]; grids and
  // lengths are filled when given.
  at::Tensor Embed(const std::vector<at::Tensor>& x, const at::Tensor& weight, const at::Tensor& bias, int64_t seq_len,
                   std::vector<std::array<int64_t, 3>>* grids, std::vector<int64_t>* lengths) const;
  // The hints of the VACE blocks, in order.
  std::vector<at::Tensor> VaceHints(const VaceInput& vace, const at::Tensor& x, int64_t seq_len,
                                    const BlockInputs& in) const;
  at::Tensor SelfAttention(const AttentionWeights& a, const at::Tensor& x,
                           const std::vector<int64_t>& lengths,
                           const std::vector<std::array<int64_t, 3>>& grids) const;
  at::Tensor CrossAttention(const AttentionWeights& a, const at::Tensor& x,
                            const at::Tensor& context) const;
  at::Tensor Rope(const at::Tensor& x, const std::vector<std::array<int64_t, 3>>& grids) const;
  at::Tensor QkNorm(const at::Tensor& x, const at::Tensor& weight) const;
  at::Tensor Attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const;

  DitConfig config_;
  at::ScalarType compute_ = at::kFloat;
  at::Tensor patch_w_, patch_b_;
  at::Tensor text0_w_, text0_b_, text2_w_, text2_b_;
  at::Tensor time0_w_, time0_b_, time2_w_, time2_b_, proj_w_, proj_b_;
  std::vector<Block> blocks_;
  at::Tensor vace_patch_w_, vace_patch_b_;
  std::vector<VaceBlock> vace_blocks_;
  std::vector<int> hint_of_block_;  // per main block: the VACE hint it adds, or -1
  at::Tensor head_w_, head_b_, head_modulation_;
  // Rotary angles (float64), one row per position and a column per complex pair of a head:
  // the frame, height and width parts side by side.
  at::Tensor rope_angles_f_, rope_angles_h_, rope_angles_w_;
};

}  // namespace wanserve::engine
