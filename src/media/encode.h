#pragma once
// Output encoders: PNG/JPEG/WebP through libvips, H.264 MP4 (yuv420p, AAC audio when present)
// through FFmpeg's libraries.
#include <string>

#include "common/error.h"
#include "core/media_types.h"

namespace wanserve::media {

enum class ImageFormat { kPng, kJpeg, kWebp };

Result<std::string> EncodeImage(const core::RgbImage& image, ImageFormat format);
Status EncodeMp4(const core::VideoClip& clip, const std::string& path);

}  // namespace wanserve::media
