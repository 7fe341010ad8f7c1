#include "api/dialects/common_rules.h"

#include <fmt/format.h>

#include "api/dialects/sizes.h"

namespace wanserve::api::dialects {

Status CheckCallbackUrl(const std::string& url, const std::string& field) {
  return CheckUrl(url, field, /*https_only=*/true, /*max_length=*/2048);
}

Result<int64_t> ParseEditDuration(const Fields& fields) {
  ASSIGN_OR_RETURN(int64_t duration, fields.IntOr("duration", 0, 0, 10));
  if (duration == 1) {
    const std::string name = fields.Name("duration");
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("{}: must be 0 (keep the input duration) or 2-10 seconds (got 1)", name), name);
  }
  return duration;
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
