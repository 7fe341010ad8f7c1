#pragma once
// What a file's first bytes say it is. Used to name uploads and to refuse formats the seeds do
// not accept before any decoder sees them; the probes then check that the file really decodes.
#include <optional>
#include <string>
#include <string_view>

namespace wanserve::media {

struct SniffedType {
  std::string kind;       // "image", "video", "audio"
  std::string extension;  // "png", "jpg", "bmp", "webp", "gif", "mp4", "mov", "wav", "mp3"
  std::string name;       // "PNG", "JPEG", ... for messages
};

// head: at least the first 12 bytes of the file.
std::optional<SniffedType> SniffMedia(std::string_view head);

}  // namespace wanserve::media
