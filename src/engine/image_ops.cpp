#include "engine/image_ops.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace wanserve::engine {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's: 8 bits of result, 2 for overshoot
constexpr double kPi = 3.14159265358979323846;

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= kPi;
  return std::sin(x) / x;
}

double Lanczos(double x) { return (-3.0 <= x && x < 3.0) ? Sinc(x) * Sinc(x / 3) : 0.0; }

// One output position's source range and fixed-point weights.
struct Taps {
  int first = 0;
  std::vector<int32_t> weights;
};

// Pillow's precompute_coeffs and normalize_coeffs_8bpc for one axis.
std::vector<Taps> Coefficients(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = 3.0 * filter_scale;
  std::vector<Taps> out(static_cast<size_t>(out_size));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    std::vector<double> w(static_cast<size_t>(std::max(xmax, 0)));
    double total = 0;
    for (int x = 0; x < xmax; ++x) {
      w[static_cast<size_t>(x)] = Lanczos((x + xmin - center + 0.5) / filter_scale);
      total += w[static_cast<size_t>(x)];
    }
    Taps& taps = out[static_cast<size_t>(xx)];
    taps.first = xmin;
    for (double v : w) {
      if (total != 0.0) v /= total;
      const double fixed = v * (1 << kPrecisionBits);
      taps.weights.push_back(static_cast<int32_t>(v < 0 ? -0.5 + fixed : 0.5 + fixed));
    }
  }
  return out;
}

uint8_t Clip8(int32_t sum) {
  const int32_t v = sum >> kPrecisionBits;
  return static_cast<uint8_t>(std::clamp(v, 0, 255));
}

core::RgbImage Horizontal(const core::RgbImage& in, int width) {
  const std::vector<Taps> taps = Coefficients(in.width, width);
  core::RgbImage out{width, in.height, std::vector<uint8_t>(static_cast<size_t>(width) * in.height * 3)};
  for (int y = 0; y < in.height; ++y) {
    const uint8_t* row = &in.rgb[static_cast<size_t>(y) * in.width * 3];
    for (int x = 0; x < width; ++x) {
      const Taps& t = taps[static_cast<size_t>(x)];
      for (int c = 0; c < 3; ++c) {
        int32_t sum = 1 << (kPrecisionBits - 1);
        for (size_t k = 0; k < t.weights.size(); ++k) sum += row[(t.first + k) * 3 + c] * t.weights[k];
        out.rgb[(static_cast<size_t>(y) * width + x) * 3 + c] = Clip8(sum);
      }
    }
  }
  return out;
}

core::RgbImage Vertical(const core::RgbImage& in, int height) {
  const std::vector<Taps> taps = Coefficients(in.height, height);
  core::RgbImage out{in.width, height, std::vector<uint8_t>(static_cast<size_t>(in.width) * height * 3)};
  const size_t stride = static_cast<size_t>(in.width) * 3;
  for (int y = 0; y < height; ++y) {
    const Taps& t = taps[static_cast<size_t>(y)];
    for (size_t i = 0; i < stride; ++i) {
      int32_t sum = 1 << (kPrecisionBits - 1);
      for (size_t k = 0; k < t.weights.size(); ++k) sum += in.rgb[(t.first + k) * stride + i] * t.weights[k];
      out.rgb[static_cast<size_t>(y) * stride + i] = Clip8(sum);
    }
  }
  return out;
}

}  // namespace

core::RgbImage LanczosResize(const core::RgbImage& image, int width, int height) {
  core::RgbImage out = image.width == width ? image : Horizontal(image, width);
  return out.height == height ? out : Vertical(out, height);
}

std::pair<int, int> BestOutputSize(int width, int height, int dw, int dh, double area) {
  const double ratio = static_cast<double>(width) / height;
  const double ow = std::sqrt(area * ratio);
  const double oh = area / ow;
  // Python's floor division of floats, then int().
  const int ow1 = static_cast<int>(std::floor(ow / dw) * dw);
  const int oh1 = static_cast<int>(std::floor(area / ow1 / dh) * dh);
  const int oh2 = static_cast<int>(std::floor(oh / dh) * dh);
  const int ow2 = static_cast<int>(std::floor(area / oh2 / dw) * dw);
  const double ratio1 = static_cast<double>(ow1) / oh1, ratio2 = static_cast<double>(ow2) / oh2;
  if (std::max(ratio / ratio1, ratio1 / ratio) < std::max(ratio / ratio2, ratio2 / ratio)) return {ow1, oh1};
  return {ow2, oh2};
}

core::RgbImage CoverAndCrop(const core::RgbImage& image, int width, int height) {
  const double scale = std::max(static_cast<double>(width) / image.width, static_cast<double>(height) / image.height);
  // Python's round(): halves go to the even integer, as nearbyint does in the default mode.
  const int rw = static_cast<int>(std::nearbyint(image.width * scale));
  const int rh = static_cast<int>(std::nearbyint(image.height * scale));
  const core::RgbImage resized = LanczosResize(image, std::max(rw, width), std::max(rh, height));
  const int x0 = (resized.width - width) / 2, y0 = (resized.height - height) / 2;
  core::RgbImage out{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  for (int y = 0; y < height; ++y) {
    std::copy_n(&resized.rgb[(static_cast<size_t>(y + y0) * resized.width + x0) * 3], static_cast<size_t>(width) * 3,
                &out.rgb[static_cast<size_t>(y) * width * 3]);
  }
  return out;
}

}  // namespace wanserve::engine
