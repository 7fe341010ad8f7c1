#pragma once
// Output encoders: PNG/JPEG/WebP through libvips, H.264 MP4 (yuv420p, AAC audio when present)
// through FFmpeg's libraries.
#include <string>

#include "common/error.h"
#include "core/media_types.h"

namespace wanserve::media {

enum class ImageFormat { kPng, kJpeg, kWebp };

Result<std::string> EncodeImage(const core::RgbImage& image, ImageFormat format);
// Scales to exactly width x height (Lanczos through libvips; aspect changes are stretched, so
// callers keep the aspect ratio when they care).
Result<core::RgbImage> ResizeImage(const core::RgbImage& image, int width, int height);
Status EncodeMp4(const core::VideoClip& clip, const std::string& path);

}  // namespace wanserve::media
