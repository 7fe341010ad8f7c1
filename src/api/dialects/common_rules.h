#pragma once
// Rules that every dialect applies the same way.
#include <string>

#include "api/dialects/fields.h"
#include "common/error.h"

namespace wanserve::api::dialects {

// Seed rule for completion callbacks: HTTPS only, at most 2048 characters. (Internal
// addresses are refused by the outbound guard.)
Status CheckCallbackUrl(const std::string& url, const std::string& field);

// Frames per second of generated video (Wan's native rate).
inline constexpr int kVideoFps = 16;

}  // namespace wanserve::api::dialects
