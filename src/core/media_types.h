#pragma once
// Raw pixels and samples as providers hand them back; media/ turns them into files.
#include <cstdint>
#include <vector>

namespace wanserve::core {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3, row-major, no padding
};

struct VideoClip {
  int fps = 16;
  std::vector<RgbImage> frames;
  int sample_rate = 48000;
  std::vector<float> audio;  // mono samples in [-1, 1]; empty = silent track omitted
};

struct GeneratedMedia {
  std::vector<RgbImage> images;
  std::vector<VideoClip> videos;
};

}  // namespace wanserve::core
