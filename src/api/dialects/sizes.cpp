#include "api/dialects/sizes.h"

#include <charconv>
#include <cmath>

namespace wanserve::api::dialects {

std::optional<Size> VideoSize(std::string_view tier, std::string_view ratio) {
  struct Row {
    std::string_view ratio;
    Size p720, p1080;
  };
  static constexpr Row kTable[] = {
      {"16:9", {1280, 720}, {1920, 1080}}, {"9:16", {720, 1280}, {1080, 1920}},
      {"1:1", {960, 960}, {1440, 1440}},   {"4:3", {1104, 832}, {1648, 1248}},
      {"3:4", {832, 1104}, {1248, 1648}},
  };
  for (const auto& row : kTable) {
    if (row.ratio != ratio) continue;
    if (tier == "720p") return row.p720;
    if (tier == "1080p") return row.p1080;
  }
  return std::nullopt;
}

std::optional<Size> ImagePresetSize(std::string_view p) {
  if (p == "square_hd") return Size{1024, 1024};
  if (p == "square") return Size{512, 512};
  if (p == "portrait_4_3") return Size{768, 1024};
  if (p == "portrait_16_9" || p == "portrait_9_16") return Size{576, 1024};
  if (p == "landscape_4_3") return Size{1024, 768};
  if (p == "landscape_16_9") return Size{1024, 576};
  return std::nullopt;
}

std::optional<Size> ImageAspectSize(std::string_view ratio) {
  if (ratio == "1:1") return Size{1024, 1024};
  if (ratio == "3:4") return Size{768, 1024};
  if (ratio == "9:16") return Size{576, 1024};
  if (ratio == "4:3") return Size{1024, 768};
  if (ratio == "16:9") return Size{1024, 576};
  return std::nullopt;
}

std::optional<Size> TierAspectSize(std::string_view tier, std::string_view ratio) {
  double base;
  if (tier == "1K") base = 1024;
  else if (tier == "2K") base = 2048;
  else if (tier == "4K") base = 4096;
  else return std::nullopt;
  auto colon = ratio.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  int rw = 0, rh = 0;
  std::from_chars(ratio.data(), ratio.data() + colon, rw);
  std::from_chars(ratio.data() + colon + 1, ratio.data() + ratio.size(), rh);
  if (rw <= 0 || rh <= 0) return std::nullopt;
  const double r = static_cast<double>(rw) / rh;
  auto round16 = [](double v) { return std::max(16, static_cast<int>(std::lround(v / 16.0)) * 16); };
  return Size{round16(base * std::sqrt(r)), round16(base / std::sqrt(r))};
}

}  // namespace wanserve::api::dialects
