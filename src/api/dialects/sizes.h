#pragma once
// Output sizes shared by the dialects: the seed's video table, fal-style image presets, and
// the 1K/2K/4K tiers of DashScope-style image APIs.
#include <optional>
#include <string_view>

namespace wanserve::api::dialects {

struct Size {
  int width = 0;
  int height = 0;
};

// Seed 004's table: tier "720p"/"1080p" x ratio "16:9","9:16","1:1","4:3","3:4".
std::optional<Size> VideoSize(std::string_view tier, std::string_view ratio);
// square_hd, square, portrait_4_3, portrait_16_9 (alias portrait_9_16), landscape_4_3,
// landscape_16_9.
std::optional<Size> ImagePresetSize(std::string_view preset);
// skills.video aspect ratios at the 1024 base ("1:1" -> 1024x1024, "16:9" -> 1024x576).
std::optional<Size> ImageAspectSize(std::string_view ratio);
// Tier "1K"/"2K"/"4K" x any "W:H" ratio: area ~ (1024|2048|4096)^2, sides multiples of 16.
std::optional<Size> TierAspectSize(std::string_view tier, std::string_view ratio);

}  // namespace wanserve::api::dialects
