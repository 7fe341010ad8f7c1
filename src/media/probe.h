#pragma once
// Decoding probes: open a file with the same libraries a client would, decode it fully and
// report what is inside. Used for input validation and by the tests to check outputs.
#include <string>

#include "common/error.h"

namespace wanserve::media {

struct MediaInfo {
  std::string container;  // "mov,mp4,m4a,3gp,3g2,mj2", "png", ...
  std::string video_codec;
  int width = 0;
  int height = 0;
  int frames = 0;          // decoded frames (1 for images)
  double duration_s = 0;
  double fps = 0;
  bool has_audio = false;
  std::string audio_codec;
};

Result<MediaInfo> ProbeVideoFile(const std::string& path);
Result<MediaInfo> ProbeImageFile(const std::string& path);

}  // namespace wanserve::media
