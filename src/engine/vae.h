#pragma once
// The Wan video VAEs: Wan 2.1 (z 16, 4x8x8 compression) and Wan 2.2 (z 48, 4x16x16, with a
// 2x2 patchify around it). Both encode and decode causally in chunks (first frame alone, then
// four frames per latent frame) with per-convolution caches of the previous frames, so memory is
// bounded by one chunk whatever the video length.
#include <ATen/ATen.h>

#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "common/error.h"
#include "engine/weights.h"

namespace wanserve::engine {

struct VaeConfig {
  bool wan22 = false;
  int64_t dim = 96;       // encoder width (the decoder's too on Wan 2.1)
  int64_t dec_dim = 256;  // decoder width on Wan 2.2
  int64_t z_dim = 16;
  std::vector<int64_t> dim_mult{1, 2, 4, 4};
  int64_t num_res_blocks = 2;
  std::vector<bool> temporal_downsample{false, true, true};
  // Latent statistics: encode gives (mu - mean) / std, decode takes z * std + mean.
  std::vector<float> mean;
  std::vector<float> std;

  static VaeConfig Wan21();
  static VaeConfig Wan22();
  // The official constructor arguments (dim, z_dim, dim_mult, ..., dec_dim on Wan 2.2).
  static Result<VaeConfig> FromJson(const nlohmann::json& json, bool wan22);
};

class WanVae {
 public:
  static Result<WanVae> Create(const VaeConfig& config, const Weights& weights, at::Device device = at::kCPU);
  ~WanVae();
  WanVae(WanVae&&) noexcept;
  WanVae& operator=(WanVae&&) noexcept;

  // video [3, T, H, W] in [-1, 1], T = 1 + 4k → normalised latent [z, 1 + k, H/s, W/s].
  at::Tensor Encode(const at::Tensor& video) const;
  // latent [z, F, h, w] → video [3, 1 + 4(F-1), h*s, w*s], not clamped.
  at::Tensor Decode(const at::Tensor& latent) const;

 private:
  struct Impl;
  explicit WanVae(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wanserve::engine
