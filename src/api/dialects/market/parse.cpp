#include <fmt/format.h>

#include "api/dialects/common_rules.h"
#include "api/dialects/fields.h"
#include "api/dialects/market/internal.h"
#include "api/dialects/sizes.h"

namespace wanserve::api::dialects::market {
namespace {

constexpr int64_t kSeedMax = 2147483647;

Status CheckColorPalette(const Fields& f, const json& input) {
  if (!f.Has("color_palette")) return Status::Ok();
  const auto& v = input.at("color_palette");
  if (!v.is_array() || v.size() < 3 || v.size() > 10) {
    return MakeError(ErrorCode::kInvalidInput, "input.color_palette: must be 3-10 {hex, ratio} entries",
                     "input.color_palette");
  }
  for (const auto& e : v) {
    if (!e.is_object() || !e.contains("hex") || !e["hex"].is_string() || e["hex"].get<std::string>().size() != 7 ||
        e["hex"].get<std::string>()[0] != '#') {
      return MakeError(ErrorCode::kInvalidInput, "input.color_palette: each entry needs hex \"#RRGGBB\"",
                       "input.color_palette");
    }
  }
  return Status::Ok();
}

Result<Parsed> ParseImage(const json& input, Parsed p, bool pro) {
  Fields f(input, "input.");
  auto& r = p.request;
  r.model = std::string(pro ? core::kModelImagePro : core::kModelImage);
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 5000));
  ASSIGN_OR_RETURN(r.image_urls, f.UrlArray("input_urls", 0, 9));
  const bool edit = !r.image_urls.empty();
  r.kind = edit ? core::RequestKind::kImageEdit : core::RequestKind::kTextToImage;
  ASSIGN_OR_RETURN(auto sequential, f.OptionalBool("enable_sequential"));
  r.sequential = sequential.value_or(false);
  ASSIGN_OR_RETURN(int64_t n, f.IntOr("n", r.sequential ? 12 : 1, 1, r.sequential ? 12 : 4));
  r.count = static_cast<int>(n);
  ASSIGN_OR_RETURN(std::string ratio, f.EnumOr("aspect_ratio", "1:1",
                                               {"1:1", "16:9", "4:3", "21:9", "3:4", "9:16", "8:1", "1:8"}));
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("resolution", "2K", {"1K", "2K", "4K"}));
  if (r.resolution_tier == "4K" && (!pro || r.sequential || edit)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "input.resolution: 4K is only available on wan/2-7-image-pro for non-sequential text-to-image",
                     "input.resolution");
  }
  ASSIGN_OR_RETURN(auto thinking, f.OptionalBool("thinking_mode"));
  // Thinking mode exists for non-sequential text-to-image only; elsewhere it has no effect.
  if (!edit && !r.sequential) r.thinking_mode = thinking;
  RETURN_IF_ERROR(CheckColorPalette(f, input));
  if (f.Has("bbox_list") && !input.at("bbox_list").is_array()) {
    return MakeError(ErrorCode::kInvalidInput, "input.bbox_list: must be a list per input image", "input.bbox_list");
  }
  ASSIGN_OR_RETURN(r.watermark, f.OptionalBool("watermark"));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  ASSIGN_OR_RETURN(r.safety_checker, f.OptionalBool("nsfw_checker"));
  // Aspect ratio applies to text-to-image; an edit follows its first input image (1:1 until
  // inputs are probed).
  r.aspect_ratio = edit ? "1:1" : ratio;
  const Size size = *TierAspectSize(r.resolution_tier, r.aspect_ratio);
  r.width = size.width;
  r.height = size.height;
  return p;
}

Result<Parsed> ParseTextToVideo(const json& input, Parsed p) {
  Fields f(input, "input.");
  auto& r = p.request;
  r.kind = core::RequestKind::kTextToVideo;
  r.model = std::string(core::kModelTextToVideo);
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(auto audio, f.OptionalUrl("audio_url"));
  if (audio) r.audio_urls.push_back(*audio);
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("resolution", "1080p", {"720p", "1080p"}));
  ASSIGN_OR_RETURN(r.aspect_ratio, f.EnumOr("aspect_ratio", "16:9", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  ASSIGN_OR_RETURN(auto extend, f.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(true);
  ASSIGN_OR_RETURN(r.watermark, f.OptionalBool("watermark"));
  SetVideoOutput(r, duration, r.aspect_ratio);
  return p;
}

Result<Parsed> ParseVideoEdit(const json& input, Parsed p) {
  Fields f(input, "input.");
  auto& r = p.request;
  r.kind = core::RequestKind::kVideoEdit;
  r.model = std::string(core::kModelVideoEdit);
  ASSIGN_OR_RETURN(r.video_url, f.RequiredUrl("video_url"));
  ASSIGN_OR_RETURN(r.prompt, f.StringOr("prompt", "", 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(auto reference, f.OptionalUrl("reference_image_url"));
  if (reference) r.image_urls.push_back(*reference);
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("resolution", "1080p", {"720p", "1080p"}));
  ASSIGN_OR_RETURN(auto ratio, f.OptionalEnum("aspect_ratio", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(f));
  ASSIGN_OR_RETURN(r.audio_setting, f.EnumOr("audio_setting", "auto", {"auto", "origin"}));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  ASSIGN_OR_RETURN(auto extend, f.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(true);
  SetVideoOutput(r, duration, ratio);
  return p;
}

}  // namespace

Result<Parsed> Parse(const json& body) {
  Fields top(body);
  Parsed p;
  ASSIGN_OR_RETURN(p.model_alias, top.RequiredString("model", 1, 200));
  std::string callback;
  for (const char* name : {"callBackUrl", "callbackUrl", "callback_url"}) {
    if (!top.Has(name)) continue;
    ASSIGN_OR_RETURN(callback, top.RequiredString(name, 1, 2048));
    RETURN_IF_ERROR(CheckCallbackUrl(callback, name));
    break;
  }
  auto it = body.find("input");
  if (it == body.end() || !it->is_object()) {
    return MakeError(ErrorCode::kInvalidInput, "input: is required and must be an object", "input");
  }
  p.param = {{"model", p.model_alias}, {"input", *it}};
  if (!callback.empty()) p.param["callBackUrl"] = callback;
  p.request.callback_url = callback;
  const auto& m = p.model_alias;
  if (m == "wan/2-7-image") return ParseImage(*it, std::move(p), false);
  if (m == "wan/2-7-image-pro") return ParseImage(*it, std::move(p), true);
  if (m == "wan/2-7-text-to-video") return ParseTextToVideo(*it, std::move(p));
  if (m == "wan/2-7-videoedit") return ParseVideoEdit(*it, std::move(p));
  return MakeError(ErrorCode::kUnsupportedModel, "The model name you specified is not supported", "model");
}

}  // namespace wanserve::api::dialects::market
