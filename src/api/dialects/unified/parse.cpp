#include <fmt/format.h>

#include "api/dialects/common_rules.h"
#include "api/dialects/fields.h"
#include "api/dialects/sizes.h"
#include "api/dialects/unified/internal.h"

namespace wanserve::api::dialects::unified {
namespace {

constexpr int64_t kSeedMax = 2147483647;

Result<std::string> ParseCallback(const Fields& f) {
  if (!f.Has("callback_url")) return std::string();
  ASSIGN_OR_RETURN(std::string url, f.RequiredString("callback_url", 1, 2048));
  RETURN_IF_ERROR(CheckCallbackUrl(url, "callback_url"));
  return url;
}

Result<std::string> ParseModel(const json& body, std::initializer_list<std::string_view> known) {
  Fields f(body);
  ASSIGN_OR_RETURN(std::string model, f.RequiredString("model", 1, 200));
  for (auto k : known) {
    if (model == k) return model;
  }
  return MakeError(ErrorCode::kUnsupportedModel, fmt::format("model '{}' is not supported on this endpoint", model),
                   "model");
}

Result<Size> ParseImageSize(const json& body) {
  auto it = body.find("size");
  if (it == body.end() || it->is_null()) return *ImagePresetSize("square_hd");
  if (it->is_string()) {
    if (auto s = ImagePresetSize(it->get<std::string>()); s && it->get<std::string>() != "portrait_9_16") return *s;
  } else if (it->is_object()) {
    Fields f(*it, "size.");
    ASSIGN_OR_RETURN(auto w, f.OptionalInt("width", 256, 4096));
    ASSIGN_OR_RETURN(auto h, f.OptionalInt("height", 256, 4096));
    if (!w || !h) return MakeError(ErrorCode::kInvalidInput, "size: object needs width and height", "size");
    return Size{static_cast<int>(*w), static_cast<int>(*h)};
  }
  return MakeError(ErrorCode::kInvalidInput,
                   "size: must be one of square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, "
                   "landscape_16_9, or {width, height} with sides 256-4096",
                   "size");
}

Result<Parsed> ParseTextToVideo(const json& body, Parsed p) {
  Fields f(body);
  auto& r = p.request;
  r.kind = core::RequestKind::kTextToVideo;
  r.model = std::string(core::kModelTextToVideo);
  // Seed rule: overflow is truncated, not refused.
  ASSIGN_OR_RETURN(r.prompt, f.TruncatedString("prompt", "", 5000, true));
  ASSIGN_OR_RETURN(r.negative_prompt, f.TruncatedString("negative_prompt", "", 500, false));
  ASSIGN_OR_RETURN(r.audio_urls, f.UrlArray("audio_urls", 0, 1));
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("quality", "720p", {"720p", "1080p"}));
  ASSIGN_OR_RETURN(r.aspect_ratio, f.EnumOr("aspect_ratio", "16:9", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 1, kSeedMax));
  ASSIGN_OR_RETURN(auto extend, f.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(false);
  ASSIGN_OR_RETURN(r.callback_url, ParseCallback(f));
  SetVideoOutput(r, duration, r.aspect_ratio);
  return p;
}

Result<Parsed> ParseVideoEdit(const json& body, Parsed p) {
  Fields f(body);
  auto& r = p.request;
  r.kind = core::RequestKind::kVideoEdit;
  r.model = std::string(core::kModelVideoEdit);
  ASSIGN_OR_RETURN(auto videos, f.UrlArray("video_urls", 1, 1));
  r.video_url = videos[0];
  ASSIGN_OR_RETURN(r.prompt, f.StringOr("prompt", "", 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(r.image_urls, f.UrlArray("image_urls", 0, 4));
  ASSIGN_OR_RETURN(auto keep_sound, f.OptionalBool("keep_original_sound"));
  r.audio_setting = keep_sound.value_or(false) ? "origin" : "auto";
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("quality", "720p", {"720p", "1080p"}));
  ASSIGN_OR_RETURN(auto ratio, f.OptionalEnum("aspect_ratio", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(f));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 1, kSeedMax));
  ASSIGN_OR_RETURN(auto extend, f.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(false);
  ASSIGN_OR_RETURN(r.callback_url, ParseCallback(f));
  SetVideoOutput(r, duration, ratio);
  return p;
}

}  // namespace

Result<Parsed> ParseImage(const json& body) {
  Parsed p;
  ASSIGN_OR_RETURN(p.model_alias, ParseModel(body, {"wan-2.7-image", "wan-2.7-image-pro"}));
  Fields f(body);
  auto& r = p.request;
  r.model = std::string(p.model_alias == "wan-2.7-image-pro" ? core::kModelImagePro : core::kModelImage);
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 2000));
  ASSIGN_OR_RETURN(r.image_urls, f.UrlArray("image_urls", 0, 4));
  const bool edit = !r.image_urls.empty();
  r.kind = edit ? core::RequestKind::kImageEdit : core::RequestKind::kTextToImage;
  ASSIGN_OR_RETURN(int64_t n, f.IntOr("n", 1, 1, 5));
  if (edit && n > 4) {
    return MakeError(ErrorCode::kInvalidInput, fmt::format("n: image editing supports 1-4 images (got {})", n), "n");
  }
  r.count = static_cast<int>(n);
  ASSIGN_OR_RETURN(Size size, ParseImageSize(body));
  r.width = size.width;
  r.height = size.height;
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  ASSIGN_OR_RETURN(r.safety_checker, f.OptionalBool("enable_safety_checker"));
  ASSIGN_OR_RETURN(auto expansion, f.OptionalBool("enable_prompt_expansion"));
  // Prompt expansion only exists in image editing mode.
  if (edit) r.prompt_extend = expansion;
  ASSIGN_OR_RETURN(r.callback_url, ParseCallback(f));
  return p;
}

Result<Parsed> ParseVideo(const json& body) {
  Parsed p;
  ASSIGN_OR_RETURN(p.model_alias, ParseModel(body, {"wan2.7-text-to-video", "wan2.7-video-edit"}));
  if (p.model_alias == "wan2.7-video-edit") return ParseVideoEdit(body, std::move(p));
  return ParseTextToVideo(body, std::move(p));
}

}  // namespace wanserve::api::dialects::unified
