#include "media/sniff.h"

namespace wanserve::media {

std::optional<SniffedType> SniffMedia(std::string_view h) {
  if (h.size() < 12) return std::nullopt;
  const auto b = [&](size_t i) { return static_cast<unsigned char>(h[i]); };
  if (b(0) == 0xff && b(1) == 0xd8 && b(2) == 0xff) return SniffedType{"image", "jpg", "JPEG"};
  if (b(0) == 0x89 && h.substr(1, 3) == "PNG") return SniffedType{"image", "png", "PNG"};
  if (h.substr(0, 2) == "BM") return SniffedType{"image", "bmp", "BMP"};
  if (h.substr(0, 4) == "RIFF" && h.substr(8, 4) == "WEBP") return SniffedType{"image", "webp", "WebP"};
  if (h.substr(0, 3) == "GIF") return SniffedType{"image", "gif", "GIF"};
  if (h.substr(4, 4) == "ftyp") {
    if (h.substr(8, 4) == "qt  ") return SniffedType{"video", "mov", "MOV"};
    return SniffedType{"video", "mp4", "MP4"};
  }
  if (h.substr(0, 4) == "RIFF" && h.substr(8, 4) == "WAVE") return SniffedType{"audio", "wav", "WAV"};
  if (h.substr(0, 3) == "ID3" || (b(0) == 0xff && (b(1) & 0xe0) == 0xe0)) return SniffedType{"audio", "mp3", "MP3"};
  return std::nullopt;
}

}  // namespace wanserve::media
