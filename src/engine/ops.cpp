#include "engine/ops.h"

#include <algorithm>
#include <cmath>

#include "engine/torch_compat.h"

namespace wanserve::engine {
namespace {
// Bytes of attention scores materialised at once on the chunked path.
constexpr int64_t kScoreBudgetBytes = int64_t{256} << 20;
}  // namespace

at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  const at::Tensor xf = x.to(at::kFloat);
  const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + eps);
  return normed.to(x.scalar_type()) * weight;
}

at::Tensor LayerNorm(const at::Tensor& x, double eps, const at::Tensor& weight,
                     const at::Tensor& bias) {
  return at::layer_norm(x.to(at::kFloat), {x.size(-1)}, weight, bias, eps).to(x.scalar_type());
}

at::Tensor Attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const at::Tensor qh = q.transpose(0, 1);  // [heads, Lq, d]
  const at::Tensor kh = k.transpose(0, 1);
  const at::Tensor vh = v.transpose(0, 1);
#if WANSERVE_TORCH_HAS_SDPA
  at::Tensor out = at::scaled_dot_product_attention(qh.unsqueeze(0), kh.unsqueeze(0),
                                                    vh.unsqueeze(0))
                       .squeeze(0);
#else
  const int64_t heads = qh.size(0);
  const int64_t lq = qh.size(1);
  const int64_t lk = kh.size(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(qh.size(2)));
  const int64_t per_query = heads * lk * static_cast<int64_t>(qh.element_size()) * 2;
  const int64_t chunk = std::max<int64_t>(1, kScoreBudgetBytes / std::max<int64_t>(1, per_query));
  const at::Tensor kt = kh.transpose(1, 2);
  at::Tensor out = at::empty_like(qh);
  for (int64_t start = 0; start < lq; start += chunk) {
    const int64_t n = std::min(chunk, lq - start);
    at::Tensor scores = at::matmul(qh.narrow(1, start, n), kt).mul_(scale);
    out.narrow(1, start, n).copy_(at::matmul(at::softmax(scores, -1), vh));
  }
#endif
  return out.transpose(0, 1);
}

}  // namespace wanserve::engine
