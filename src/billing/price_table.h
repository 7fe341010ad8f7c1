#pragma once
// What a task costs, in credits, computed from the normalized request after the dialect's
// defaults were applied. Defaults are documented in docs/pricing.md.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/request.h"

namespace wanserve::billing {

struct PriceTable {
  // Credits per image, by canonical model; a 4K tier costs image_4k_factor times more.
  std::map<std::string, int64_t> per_image = {{"wan2.7-image", 20}, {"wan2.7-image-pro", 40}};
  int64_t image_4k_factor = 2;
  // Credits per output second of text, image and reference to video, by tier; reference to
  // video with reference videos also pays their seconds.
  std::map<std::string, int64_t> t2v_per_second = {{"720p", 4}, {"1080p", 6}};
  // Longest reference video reference to video accepts; held at this length each until probed.
  int64_t reference_video_max_seconds = 30;
  // Credits per second of video edit, billed on input plus output seconds (as DashScope does).
  std::map<std::string, int64_t> edit_per_second = {{"720p", 2}, {"1080p", 2}};
  // Longest input a video edit accepts; a "keep the input duration" edit is held at this
  // length until its input is probed.
  int64_t edit_max_seconds = 10;
};

// Credits for one task (all its outputs). Unknown models and tiers cost nothing rather than
// blocking; the config check at start-up names them. The input seconds of a video edit (at
// most edit_max_seconds) or of reference to video's videos (together) are input_video_s once
// probed; until then the longest the API accepts.
int64_t PriceFor(const PriceTable& table, const core::GenerationRequest& request,
                 std::optional<double> input_video_s = std::nullopt);

}  // namespace wanserve::billing
