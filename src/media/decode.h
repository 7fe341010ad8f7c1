#pragma once
// Input media decoded for generation: a video's frames as 8-bit RGB at the frame rate the model
// runs at (each instant takes the frame on screen then), its soundtrack as mono samples, and a
// picture's pixels as a browser shows them (EXIF orientation applied, alpha dropped).
#include <string>

#include "common/error.h"
#include "core/media_types.h"

namespace wanserve::media {

struct DecodeVideoOptions {
  int fps = 16;              // frames per second of the result
  double max_seconds = 0;    // only the first seconds (0: all of it)
  // Frames are scaled (Lanczos) to the smallest size covering width x height with their own
  // aspect ratio, so a 4K input does not fill memory; 0: as decoded.
  int cover_width = 0, cover_height = 0;
  bool audio = false;        // also decode the first audio stream, mono at the clip's rate
};

// Errors: kInvalidInput when the file does not decode or has no video frames.
Result<core::VideoClip> DecodeVideo(const std::string& path, const DecodeVideoOptions& options);
Result<core::RgbImage> DecodeImage(const std::string& path);

}  // namespace wanserve::media
