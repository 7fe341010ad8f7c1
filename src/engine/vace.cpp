#include "engine/vace.h"

namespace wanserve::engine {
namespace {

constexpr int64_t kCell = 8;  // the VAE's spatial stride: one latent pixel per 8x8 cell

// The mask in the latent's layout: each 8x8 cell's pixels become 64 channels (row offset * 8 +
// column offset), and time is resampled to the latent's frame count with nearest-exact.
at::Tensor EncodeMask(const at::Tensor& mask, int64_t references) {
  const int64_t depth = mask.size(1);
  const int64_t height = 2 * (mask.size(2) / (kCell * 2));
  const int64_t width = 2 * (mask.size(3) / (kCell * 2));
  const int64_t new_depth = (depth + 3) / 4;
  at::Tensor cells = mask[0]
                         .view({depth, height, kCell, width, kCell})
                         .permute({2, 4, 0, 1, 3})
                         .reshape({kCell * kCell, depth, height, width});
  // nearest-exact picks source frame floor((i + 0.5) * depth / new_depth).
  const at::Tensor picks =
      at::floor((at::arange(new_depth, at::kDouble) + 0.5) * (static_cast<double>(depth) / new_depth))
          .clamp_max(depth - 1)
          .to(at::kLong)
          .to(mask.device());
  cells = cells.index_select(1, picks);
  if (references > 0) cells = at::cat({cells.new_zeros({kCell * kCell, references, height, width}), cells}, 1);
  return cells;
}

}  // namespace

at::Tensor VaceMaskFromVideo(const at::Tensor& mask_video) {
  return at::clamp((mask_video.narrow(0, 0, 1) + 1) / 2, 0, 1);
}

at::Tensor LetterboxReference(const at::Tensor& image, int64_t height, int64_t width) {
  const int64_t h = image.size(1);
  const int64_t w = image.size(2);
  if (h == height && w == width) return image.unsqueeze(1);
  // In double, as the reference computes it: the truncation can lose a pixel on the side that
  // should fit exactly, and must lose the same one.
  const double scale = std::min(static_cast<double>(height) / h, static_cast<double>(width) / w);
  const auto new_h = static_cast<int64_t>(h * scale);
  const auto new_w = static_cast<int64_t>(w * scale);
  const at::Tensor resized = at::upsample_bilinear2d(image.unsqueeze(0), {new_h, new_w}, false).squeeze(0);
  at::Tensor canvas = at::ones({3, height, width}, image.options());
  const int64_t top = (height - new_h) / 2;
  const int64_t left = (width - new_w) / 2;
  canvas.narrow(1, top, new_h).narrow(2, left, new_w).copy_(resized);
  return canvas.unsqueeze(1);
}

VaceContext BuildVaceContext(const WanVae& vae, const at::Tensor& frames, const at::Tensor& mask,
                             const std::vector<at::Tensor>& references) {
  TORCH_CHECK(frames.size(2) % 16 == 0 && frames.size(3) % 16 == 0, "VACE frames need sides that are multiples of 16");
  const at::Tensor binary = at::where(mask > 0.5, 1.0, 0.0).to(frames.scalar_type());
  // Each half encoded alone, each with a fresh causal cache.
  const at::Tensor inactive = vae.Encode(frames * (1 - binary));
  const at::Tensor reactive = vae.Encode(frames * binary);
  std::vector<at::Tensor> z0_frames;
  for (const at::Tensor& reference : references) {
    const at::Tensor latent = vae.Encode(reference);
    z0_frames.push_back(at::cat({latent, at::zeros_like(latent)}, 0));
  }
  z0_frames.push_back(at::cat({inactive, reactive}, 0));
  VaceContext out;
  out.z0 = at::cat(z0_frames, 1);
  out.m0 = EncodeMask(mask.to(frames.scalar_type()), static_cast<int64_t>(references.size()));
  out.z = at::cat({out.z0, out.m0}, 0);
  return out;
}

}  // namespace wanserve::engine
