#pragma once
// Picture preparation of the official pipelines, torch-free and exact: PIL's LANCZOS resize of
// 8-bit RGB (what Wan2.2's image-to-video does to its input, reproduced to the bit), Wan2.2's
// best_output_size, and resize-to-cover plus centre crop.
#include <utility>

#include "core/media_types.h"

namespace wanserve::engine {

// PIL.Image.resize(size, Image.LANCZOS) of an 8-bit RGB picture (Pillow 9-11): separable, the
// horizontal pass first and rounded to 8 bits, coefficients in 22-bit fixed point; a pass
// whose size does not change is skipped.
core::RgbImage LanczosResize(const core::RgbImage& image, int width, int height);

// wan/utils/utils.py best_output_size: the size of about `area` pixels in the picture's aspect
// ratio with sides multiples of dw and dh, rounding the width or the height first, whichever
// keeps the ratio closer.
std::pair<int, int> BestOutputSize(int width, int height, int dw, int dh, double area);

// Scaled (LANCZOS) to cover width x height, keeping its aspect ratio, then centre-cropped to
// it: what WanTI2V.i2v does to its image.
core::RgbImage CoverAndCrop(const core::RgbImage& image, int width, int height);

}  // namespace wanserve::engine
