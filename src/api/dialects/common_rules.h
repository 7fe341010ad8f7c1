#pragma once
// Rules that every dialect applies the same way.
#include <optional>
#include <string>

#include "api/dialects/fields.h"
#include "common/error.h"
#include "core/request.h"

namespace wanserve::api::dialects {

// Frames per second of generated video (Wan's native rate).
inline constexpr int kVideoFps = 16;

// Video edit duration: 0 keeps the input's, 2-10 truncates from the start.
Result<int64_t> ParseEditDuration(const Fields& fields);

// The image-to-video mode these inputs make (API-DIALECTS-2 §1.2: a first frame, with a last
// frame and/or driving audio; or a clip to continue, with a last frame), or why they do not go
// together; the caller names the field.
Result<std::string_view> ImageToVideoMode(bool first_frame, bool last_frame, bool clip, bool audio);

// Reference to video takes 1-5 references, images and videos together.
inline constexpr size_t kMaxReferences = 5;

// Sets duration, frame rate, aspect ratio and pixel size from the seed's table for
// r.resolution_tier. Without a ratio the input's is kept; until inputs are probed, 16:9 sizes
// the output.
void SetVideoOutput(core::GenerationRequest& r, int64_t duration_s, const std::optional<std::string>& ratio);

}  // namespace wanserve::api::dialects
