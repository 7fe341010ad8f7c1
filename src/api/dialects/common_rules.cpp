#include "api/dialects/common_rules.h"

#include <fmt/format.h>

#include "api/dialects/sizes.h"

namespace wanserve::api::dialects {

Result<int64_t> ParseEditDuration(const Fields& fields) {
  ASSIGN_OR_RETURN(int64_t duration, fields.IntOr("duration", 0, 0, 10));
  if (duration == 1) {
    const std::string name = fields.Name("duration");
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: must be 0 (keep the input duration) or 2-10 seconds (got 1)", name), name);
  }
  return duration;
}

Result<std::string_view> ImageToVideoMode(bool first_frame, bool last_frame, bool clip, bool audio) {
  const auto refuse = [](const char* why) { return MakeError(ErrorCode::kInvalidInput, why); };
  if (clip) {
    if (first_frame) return refuse("a clip to continue takes no first frame (its last frame is the start)");
    if (audio) return refuse("driving audio does not go with a clip to continue");
    return core::kModeContinuation;
  }
  if (!first_frame) {
    return refuse(last_frame ? "a last frame needs a first frame or a clip to continue"
                             : "a first frame or a clip to continue is required");
  }
  return last_frame ? core::kModeFirstLastFrame : core::kModeFirstFrame;
}

void SetVideoOutput(core::GenerationRequest& r, int64_t duration_s, const std::optional<std::string>& ratio) {
  r.duration_s = static_cast<double>(duration_s);
  r.fps = kVideoFps;
  r.aspect_ratio = ratio.value_or("");
  const Size size = *VideoSize(r.resolution_tier, ratio.value_or("16:9"));
  r.width = size.width;
  r.height = size.height;
}

}  // namespace wanserve::api::dialects
