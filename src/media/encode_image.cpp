#include <vips/vips.h>

#include <string>

#include "media/encode.h"
#include "media/vips_init.h"

namespace wanserve::media {

Result<std::string> EncodeImage(const core::RgbImage& image, ImageFormat format) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return MakeError(ErrorCode::kInternal, "image buffer does not match its dimensions");
  }
  EnsureVipsStarted();
  VipsImage* in = vips_image_new_from_memory(image.rgb.data(), image.rgb.size(), image.width,
                                             image.height, 3, VIPS_FORMAT_UCHAR);
  if (!in) return MakeError(ErrorCode::kInternal, std::string("libvips: ") + vips_error_buffer());
  void* buf = nullptr;
  size_t len = 0;
  int rc = -1;
  switch (format) {
    case ImageFormat::kPng: rc = vips_pngsave_buffer(in, &buf, &len, "compression", 6, nullptr); break;
    case ImageFormat::kJpeg: rc = vips_jpegsave_buffer(in, &buf, &len, "Q", 90, nullptr); break;
    case ImageFormat::kWebp: rc = vips_webpsave_buffer(in, &buf, &len, "Q", 90, nullptr); break;
  }
  g_object_unref(in);
  if (rc != 0) {
    std::string err = vips_error_buffer();
    vips_error_clear();
    return MakeError(ErrorCode::kInternal, "libvips encode: " + err);
  }
  std::string out(static_cast<const char*>(buf), len);
  g_free(buf);
  return out;
}

}  // namespace wanserve::media
