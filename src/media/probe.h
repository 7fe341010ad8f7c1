#pragma once
// Decoding probes: open a file with the same libraries a client would, decode it fully and
// report what is inside. Used for input validation and by the tests to check outputs.
#include <string>

#include "common/error.h"
#include "media/input_files.h"

namespace wanserve::media {

Result<MediaInfo> ProbeVideoFile(const std::string& path);
Result<MediaInfo> ProbeImageFile(const std::string& path);

}  // namespace wanserve::media
