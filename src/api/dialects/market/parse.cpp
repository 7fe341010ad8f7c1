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
  Fields f(input, "input.", {.numeric_strings = true, .case_insensitive_enums = true});
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
  if (r.resolution_tier == "4K" && !pro) {
    return MakeError(ErrorCode::kInvalidInput, "input.resolution: 4K requires wan/2-7-image-pro", "input.resolution");
  }
  if (r.resolution_tier == "4K" && (r.sequential || edit)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "input.resolution: 4K is only available for non-sequential text-to-image", "input.resolution");
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

// kie's leniency (API-DIALECTS-2 §6): "5" for 5, "720P" for 720p.
constexpr Leniency kLenient{.numeric_strings = true, .case_insensitive_enums = true};

// prompt_extend (default on), watermark, seed and nsfw_checker (no effect on video), which every
// video model takes.
Status ParseVideoCommon(const Fields& f, core::GenerationRequest& r) {
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  ASSIGN_OR_RETURN(auto extend, f.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(true);
  ASSIGN_OR_RETURN(r.watermark, f.OptionalBool("watermark"));
  ASSIGN_OR_RETURN(auto nsfw, f.OptionalBool("nsfw_checker"));
  (void)nsfw;
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("resolution", "1080p", {"720p", "1080p"}));
  return Status::Ok();
}

// A field under its canonical name or an alias (both with one value), as an optional URL.
Result<std::optional<std::string>> AliasedUrl(const Fields& f, std::initializer_list<std::string_view> names) {
  ASSIGN_OR_RETURN(const std::string name, f.Pick(names));
  if (name.empty()) return std::optional<std::string>();
  return f.OptionalUrl(name);
}

Result<std::optional<std::string>> AliasedRatio(const Fields& f, std::initializer_list<std::string_view> names) {
  ASSIGN_OR_RETURN(const std::string name, f.Pick(names));
  if (name.empty()) return std::optional<std::string>();
  return f.OptionalEnum(name, {"16:9", "9:16", "1:1", "4:3", "3:4"});
}

Result<Parsed> ParseTextToVideo(const json& input, Parsed p) {
  Fields f(input, "input.", kLenient);
  auto& r = p.request;
  r.kind = core::RequestKind::kTextToVideo;
  r.model = std::string(core::kModelTextToVideo);
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(auto audio, f.OptionalUrl("audio_url"));
  if (audio) r.audio_urls.push_back(*audio);
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  // `ratio` is kie's name; `aspect_ratio` is accepted when it is absent.
  ASSIGN_OR_RETURN(auto ratio, AliasedRatio(f, {"ratio", "aspect_ratio"}));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
  SetVideoOutput(r, duration, ratio.value_or("16:9"));
  return p;
}

Result<Parsed> ParseImageToVideo(const json& input, Parsed p) {
  Fields f(input, "input.", kLenient);
  auto& r = p.request;
  r.kind = core::RequestKind::kImageToVideo;
  r.model = std::string(core::kModelImageToVideo);
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(auto first, AliasedUrl(f, {"first_frame_url", "first_frame"}));
  ASSIGN_OR_RETURN(auto last, f.OptionalUrl("last_frame_url"));
  ASSIGN_OR_RETURN(auto clip, f.OptionalUrl("first_clip_url"));
  ASSIGN_OR_RETURN(auto audio, AliasedUrl(f, {"driving_audio_url", "audio_url"}));
  auto mode = ImageToVideoMode(first.has_value(), last.has_value(), clip.has_value(), audio.has_value());
  if (!mode.ok()) {
    const std::string field = clip ? (first ? "input.first_frame_url" : "input.driving_audio_url")
                              : last ? "input.last_frame_url"
                                     : "input.first_frame_url";
    return MakeError(ErrorCode::kInvalidInput, field + ": " + mode.error().message, field);
  }
  r.generation_mode = std::string(*mode);
  r.first_frame_url = first.value_or("");
  r.last_frame_url = last.value_or("");
  r.video_url = clip.value_or("");
  if (audio) r.audio_urls.push_back(*audio);
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  // The first frame's (or the clip's) ratio wins; ratio and aspect_ratio are ignored.
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
  SetVideoOutput(r, duration, std::nullopt);
  return p;
}

Result<Parsed> ParseReferenceToVideo(const json& input, Parsed p) {
  Fields f(input, "input.", kLenient);
  auto& r = p.request;
  r.kind = core::RequestKind::kReferenceToVideo;
  r.model = std::string(core::kModelReferenceToVideo);
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(r.image_urls, f.UrlList("reference_image", 0, kMaxReferences));
  ASSIGN_OR_RETURN(r.reference_video_urls, f.UrlList("reference_video", 0, kMaxReferences));
  const size_t references = r.image_urls.size() + r.reference_video_urls.size();
  if (references < 1 || references > kMaxReferences) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("input.reference_image: 1-5 references (images and videos together) are required, "
                                 "got {}", references),
                     "input.reference_image");
  }
  ASSIGN_OR_RETURN(auto first, AliasedUrl(f, {"first_frame", "first_frame_url"}));
  r.first_frame_url = first.value_or("");
  // One voice: the first reference video's if there is one, else the first image's.
  ASSIGN_OR_RETURN(auto voice, f.OptionalUrl("reference_voice"));
  if (voice) r.voice_bindings.push_back({r.reference_video_urls.empty() ? "image1" : "video1", *voice});
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  ASSIGN_OR_RETURN(auto ratio, AliasedRatio(f, {"aspect_ratio", "ratio"}));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 10));
  SetVideoOutput(r, duration, first ? std::nullopt : std::optional<std::string>(ratio.value_or("16:9")));
  return p;
}

// The edit's reference images: kie's `reference_image` (a string, or a list of up to 4), or
// wanserve's earlier `reference_image_url`.
Result<std::vector<std::string>> EditReferences(const Fields& f) {
  ASSIGN_OR_RETURN(const std::string name, f.Pick({"reference_image", "reference_image_url"}));
  if (name.empty()) return std::vector<std::string>{};
  return f.UrlList(name, 0, 4);
}

Result<Parsed> ParseVideoEdit(const json& input, Parsed p) {
  Fields f(input, "input.", kLenient);
  auto& r = p.request;
  r.kind = core::RequestKind::kVideoEdit;
  r.model = std::string(core::kModelVideoEdit);
  ASSIGN_OR_RETURN(r.video_url, f.RequiredUrl("video_url"));
  ASSIGN_OR_RETURN(r.prompt, f.StringOr("prompt", "", 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(r.image_urls, EditReferences(f));
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  // `ratio` is ignored here: clients send "16:9" by default and kie ignores it too.
  ASSIGN_OR_RETURN(auto ratio, f.OptionalEnum("aspect_ratio", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(f));
  // A legacy UI sends {"mode": "auto"}.
  if (f.Has("audio_setting") && input.at("audio_setting").is_object()) {
    const json inner = input.at("audio_setting");
    Fields mode(inner, "input.audio_setting.");
    ASSIGN_OR_RETURN(r.audio_setting, mode.EnumOr("mode", "auto", {"auto", "origin"}));
  } else {
    ASSIGN_OR_RETURN(r.audio_setting, f.EnumOr("audio_setting", "auto", {"auto", "origin"}));
  }
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
    ASSIGN_OR_RETURN(auto url, top.OptionalCallbackUrl(name));
    callback = url.value_or("");
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
  if (m == "wan/2-7-image-to-video") return ParseImageToVideo(*it, std::move(p));
  if (m == "wan/2-7-r2v") return ParseReferenceToVideo(*it, std::move(p));
  if (m == "wan/2-7-videoedit") return ParseVideoEdit(*it, std::move(p));
  return MakeError(ErrorCode::kUnsupportedModel, "The model name you specified is not supported", "model");
}

}  // namespace wanserve::api::dialects::market
