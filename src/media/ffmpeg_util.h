#pragma once
// Private helpers shared by the FFmpeg-based encoder and probe.
extern "C" {
#include <libavutil/error.h>
}

#include <string>

namespace wanserve::media {

inline std::string AvErrorText(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

}  // namespace wanserve::media
