#pragma once
// The VACE context of Wan2.1-VACE (WanVace.prepare_source, vace_encode_frames,
// vace_encode_masks and vace_latent of wan/vace.py): what a VACE DiT reads beside the noise.
// Mask convention: 1 (white) regenerates a pixel, 0 (black) keeps it.
#include <ATen/ATen.h>

#include <vector>

#include "engine/vae.h"

namespace wanserve::engine {

// A mask video loaded like a video ([3, F, H, W] in [-1, 1]) as the mask [1, F, H, W]:
// clamp((channel 0 + 1) / 2, 0, 1).
at::Tensor VaceMaskFromVideo(const at::Tensor& mask_video);

// A reference image [3, h, w] in [-1, 1] letterboxed onto a white canvas of height x width:
// scaled by min(H/h, W/w) with the sizes truncated, bilinear (align_corners false, no
// antialias), centred. An image of the canvas size is returned as it is. Result [3, 1, H, W].
at::Tensor LetterboxReference(const at::Tensor& image, int64_t height, int64_t width);

struct VaceContext {
  at::Tensor z0;  // [32, R + F', h, w]: inactive and reactive latents, references in front
  at::Tensor m0;  // [64, R + F', h, w]: the mask, 8x8 cells as channels, zero for references
  at::Tensor z;   // [96, R + F', h, w]: both, what the DiT reads
};

// frames [3, F, H, W] in [-1, 1], F = 1 + 4k; mask [1, F, H, W] in [0, 1] (soft values pass
// into m0, the frames are split at 0.5); references [3, 1, H, W] (letterboxed), in order:
// latent frame j is reference j. H and W must be multiples of 16.
VaceContext BuildVaceContext(const WanVae& vae, const at::Tensor& frames, const at::Tensor& mask,
                             const std::vector<at::Tensor>& references);

}  // namespace wanserve::engine
