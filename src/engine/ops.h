#pragma once
// Building blocks shared by the Wan models, written as functions over weight tensors.
#include <ATen/ATen.h>

namespace wanserve::engine {

// In the weight's dtype, as autocast runs a bf16 layer on a float32 input.
inline at::Tensor Linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {}) {
  return at::linear(x.scalar_type() == w.scalar_type() ? x : x.to(w.scalar_type()), w, b);
}

// RMS norm over the last dimension, computed in float32 whatever the input dtype.
at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps);

// Layer norm over the last dimension; weight and bias may be undefined (no affine).
at::Tensor LayerNorm(const at::Tensor& x, double eps, const at::Tensor& weight = {},
                     const at::Tensor& bias = {});

inline at::Tensor GeluTanh(const at::Tensor& x) { return at::gelu(x, "tanh"); }

// Softmax attention of one sample with the usual 1/sqrt(head_dim) scaling. q [Lq, heads, d],
// k and v [Lk, heads, d] (a sample's keys already cut to its length) → [Lq, heads, d].
// Fused kernels on libtorch 2.x; on 1.13 the queries are processed in chunks so the score
// matrix stays within a fixed memory budget however long the sequence.
at::Tensor Attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

}  // namespace wanserve::engine
