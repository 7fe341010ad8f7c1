#pragma once
// The one normalized request that every dialect parses into. Dialect defaults are already
// applied: what is here is what runs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"

namespace wanserve::core {

enum class RequestKind { kTextToImage, kImageEdit, kTextToVideo, kVideoEdit, kImageToVideo, kReferenceToVideo };

std::string_view ToString(RequestKind kind);
std::optional<RequestKind> ParseRequestKind(std::string_view s);
bool IsVideo(RequestKind kind);

// Canonical model ids (DashScope's names for Wan 2.7).
inline constexpr std::string_view kModelImage = "wan2.7-image";
inline constexpr std::string_view kModelImagePro = "wan2.7-image-pro";
inline constexpr std::string_view kModelTextToVideo = "wan2.7-t2v";
inline constexpr std::string_view kModelVideoEdit = "wan2.7-videoedit";
inline constexpr std::string_view kModelImageToVideo = "wan2.7-i2v";
inline constexpr std::string_view kModelReferenceToVideo = "wan2.7-r2v";

// How an image-to-video request starts (and ends).
inline constexpr std::string_view kModeFirstFrame = "first_frame";
inline constexpr std::string_view kModeFirstLastFrame = "first_last_frame";
inline constexpr std::string_view kModeContinuation = "video_continuation";

// Every canonical model, and the kinds of request each one makes (an image model edits when
// given reference images).
const std::vector<std::string_view>& KnownModels();
std::vector<RequestKind> KindsOfModel(std::string_view model);
// "<model>/<kind>": what a worker must serve to run a request (stored with each task, so that
// workers of a shared store claim only what their providers make).
std::string RouteOf(std::string_view model, RequestKind kind);

struct GenerationRequest {
  RequestKind kind = RequestKind::kTextToImage;
  std::string model;  // canonical model id
  std::string prompt;
  std::string negative_prompt;
  std::vector<std::string> image_urls;  // references: image edit, video edit (<= 4), reference to video
  std::string video_url;                // video edit source; image to video: the clip to continue
  std::vector<std::string> audio_urls;  // driving audio (text and image to video)
  std::string first_frame_url;          // image to video; reference to video (optional)
  std::string last_frame_url;           // image to video
  std::string generation_mode;          // image to video: kModeFirstFrame, ...
  std::vector<std::string> reference_video_urls;  // reference to video
  // Reference to video: voice samples bound to references, "image<N>" / "video<N>" (1-based,
  // counted per kind in request order) -> URL.
  std::vector<std::pair<std::string, std::string>> voice_bindings;
  int width = 0;                        // output size in pixels
  int height = 0;
  std::string aspect_ratio;             // "16:9", or empty = keep input (video edit)
  std::string resolution_tier;          // "720p", "1080p", "1K", "2K", "4K"
  double duration_s = 0;                // video seconds; 0 = keep input (video edit)
  int fps = 0;                          // frames per second of video output
  int count = 1;                        // images (or videos) to produce
  std::optional<int64_t> seed;
  std::optional<bool> prompt_extend;
  std::optional<bool> thinking_mode;
  std::optional<bool> watermark;
  std::optional<bool> safety_checker;
  bool sequential = false;              // image-set mode
  std::string audio_setting;            // "auto" | "origin" (video edit)
  std::string callback_url;
  int min_image_side = 0;               // reference images' smallest side; 0 = server default

  bool operator==(const GenerationRequest&) const = default;
};

// The store keeps requests in this internal JSON form; it is not any dialect's format.
std::string EncodeRequest(const GenerationRequest& request);
Result<GenerationRequest> DecodeRequest(std::string_view text);

}  // namespace wanserve::core
