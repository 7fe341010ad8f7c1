#include <fmt/format.h>

#include "api/dialects/common_rules.h"
#include "api/dialects/fields.h"
#include "api/dialects/sizes.h"
#include "api/dialects/unified/internal.h"

namespace wanserve::api::dialects::unified {
namespace {

constexpr int64_t kSeedMax = 2147483647;

Result<std::string> ParseCallback(const Fields& f) {
  ASSIGN_OR_RETURN(auto url, f.OptionalCallbackUrl("callback_url"));
  return url.value_or("");
}

// The model the body names, as its canonical EvoLink id (DashScope's names are aliases); the
// id as sent is what the task echoes.
Result<std::string> ParseModel(const json& body, std::initializer_list<std::string_view> known,
                               std::string* canonical) {
  Fields f(body);
  ASSIGN_OR_RETURN(std::string model, f.RequiredString("model", 1, 200));
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"wan2.7-videoedit", "wan2.7-video-edit"},
      {"wan2.7-i2v", "wan2.7-image-to-video"},
      {"wan2.7-r2v", "wan2.7-reference-video"}};
  *canonical = model;
  for (const auto& [alias, name] : kAliases) {
    if (model == alias) *canonical = std::string(name);
  }
  for (auto k : known) {
    if (*canonical == k) return model;
  }
  return MakeError(ErrorCode::kUnsupportedModel, fmt::format("model '{}' is not supported on this endpoint", model),
                   "model");
}

// EvoLink's leniency: "720P" for 720p, "true" for true.
constexpr Leniency kLenient{.numeric_strings = false, .case_insensitive_enums = true};

// seed (1-2147483647), prompt_extend (off unless sent true), callback_url and quality, which
// every video model takes.
Status ParseVideoCommon(const Fields& f, core::GenerationRequest& r) {
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 1, kSeedMax));
  ASSIGN_OR_RETURN(auto extend, f.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(false);
  ASSIGN_OR_RETURN(r.callback_url, ParseCallback(f));
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("quality", "720p", {"720p", "1080p"}));
  return Status::Ok();
}

// audio_urls, or the audio_url string of EvoLink's earlier docs.
Result<std::vector<std::string>> AudioUrls(const Fields& f, size_t min, size_t max) {
  ASSIGN_OR_RETURN(const std::string name, f.Pick({"audio_urls", "audio_url"}));
  if (name.empty()) return std::vector<std::string>{};
  return f.UrlList(name, min, max);
}

Error Refused(const std::string& field, const std::string& why) {
  return MakeError(ErrorCode::kInvalidInput, field + ": " + why, field);
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
  Fields f(body, "", kLenient);
  auto& r = p.request;
  r.kind = core::RequestKind::kTextToVideo;
  r.model = std::string(core::kModelTextToVideo);
  // Seed rule: overflow is truncated, not refused.
  ASSIGN_OR_RETURN(r.prompt, f.TruncatedString("prompt", "", 5000, true));
  ASSIGN_OR_RETURN(r.negative_prompt, f.TruncatedString("negative_prompt", "", 500, false));
  ASSIGN_OR_RETURN(r.audio_urls, AudioUrls(f, 0, 1));
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  ASSIGN_OR_RETURN(r.aspect_ratio, f.EnumOr("aspect_ratio", "16:9", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
  SetVideoOutput(r, duration, r.aspect_ratio);
  return p;
}

Result<Parsed> ParseImageToVideo(const json& body, Parsed p) {
  Fields f(body, "", kLenient);
  auto& r = p.request;
  r.kind = core::RequestKind::kImageToVideo;
  r.model = std::string(core::kModelImageToVideo);
  ASSIGN_OR_RETURN(r.prompt, f.TruncatedString("prompt", "", 5000, false));
  ASSIGN_OR_RETURN(r.negative_prompt, f.TruncatedString("negative_prompt", "", 500, false));
  ASSIGN_OR_RETURN(auto start, f.OptionalUrl("image_start"));
  ASSIGN_OR_RETURN(auto end, f.OptionalUrl("image_end"));
  ASSIGN_OR_RETURN(auto videos, f.UrlArray("video_urls", 0, 1));
  ASSIGN_OR_RETURN(r.audio_urls, AudioUrls(f, 0, 1));
  ASSIGN_OR_RETURN(auto mode, f.OptionalEnum("generation_mode", {"first_frame", "first_last_frame", "video_continuation"}));
  // Without a mode, the materials choose it: a clip, then both frames, then a first frame.
  if (!mode) {
    if (!videos.empty()) mode = std::string(core::kModeContinuation);
    else if (start && end) mode = std::string(core::kModeFirstLastFrame);
    else if (start) mode = std::string(core::kModeFirstFrame);
    else return Refused("image_start", "a first frame (image_start) or a clip (video_urls) is required");
  }
  if (*mode == core::kModeContinuation) {
    if (videos.empty()) return Refused("video_urls", "video_continuation needs one clip");
    if (start) return Refused("image_start", "video_continuation takes no image_start");
    if (!r.audio_urls.empty()) return Refused("audio_urls", "video_continuation takes no driving audio");
  } else {
    if (!start) return Refused("image_start", *mode + " needs image_start");
    if (!videos.empty()) return Refused("video_urls", *mode + " takes no clip");
    if (*mode == core::kModeFirstFrame && end) return Refused("image_end", "first_frame takes no image_end");
    if (*mode == core::kModeFirstLastFrame && !end) return Refused("image_end", "first_last_frame needs image_end");
  }
  r.generation_mode = *mode;
  r.first_frame_url = start.value_or("");
  r.last_frame_url = end.value_or("");
  r.video_url = videos.empty() ? "" : videos.front();
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
  SetVideoOutput(r, duration, std::nullopt);  // the first frame's (or the clip's) ratio
  return p;
}

// model_params.voice_bindings: "image<N>" / "video<N>" -> URL, at most 5, each target once.
Result<std::vector<std::pair<std::string, std::string>>> VoiceBindings(const json& body, size_t images, size_t videos) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string field = "model_params.voice_bindings";
  auto params = body.find("model_params");
  if (params == body.end() || !params->is_object() || !params->contains("voice_bindings")) return out;
  const json& bindings = (*params)["voice_bindings"];
  if (!bindings.is_object()) return Refused(field, "must be an object");
  if (bindings.size() > kMaxReferences) return Refused(field, "at most 5 voices");
  for (const auto& [key, value] : bindings.items()) {
    const bool image = key.starts_with("image"), video = key.starts_with("video");
    const std::string digits = key.substr(5);
    const bool number = !digits.empty() && digits[0] != '0' &&
                        digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 6;
    if ((!image && !video) || !number) return Refused(field, fmt::format("voice_bindings key \"{}\" invalid", key));
    if (static_cast<size_t>(std::stoi(digits)) > (image ? images : videos)) {
      return Refused(field, fmt::format("voice_bindings.{} out of range", key));
    }
    if (!value.is_string() || value.get<std::string>().empty()) return Refused(field, key + " has no voice URL");
    RETURN_IF_ERROR(CheckUrl(value.get<std::string>(), field + "." + key));
    out.emplace_back(key, value.get<std::string>());
  }
  return out;
}

Result<Parsed> ParseReferenceToVideo(const json& body, Parsed p) {
  Fields f(body, "", kLenient);
  auto& r = p.request;
  r.kind = core::RequestKind::kReferenceToVideo;
  r.model = std::string(core::kModelReferenceToVideo);
  ASSIGN_OR_RETURN(r.prompt, f.TruncatedString("prompt", "", 5000, true));
  ASSIGN_OR_RETURN(r.negative_prompt, f.TruncatedString("negative_prompt", "", 500, false));
  ASSIGN_OR_RETURN(auto start, f.OptionalUrl("image_start"));
  r.first_frame_url = start.value_or("");
  ASSIGN_OR_RETURN(r.image_urls, f.UrlArray("image_urls", 0, kMaxReferences));
  ASSIGN_OR_RETURN(r.reference_video_urls, f.UrlArray("video_urls", 0, kMaxReferences));
  const size_t references = r.image_urls.size() + r.reference_video_urls.size();
  if (references < 1 || references > kMaxReferences) {
    return Refused("image_urls", fmt::format("1-5 references (images and videos together) are required, got {}", references));
  }
  ASSIGN_OR_RETURN(r.voice_bindings, VoiceBindings(body, r.image_urls.size(), r.reference_video_urls.size()));
  if (r.voice_bindings.empty()) {
    // audio_urls bind by position: the videos first, then the images.
    ASSIGN_OR_RETURN(auto voices, AudioUrls(f, 0, kMaxReferences));
    for (size_t i = 0; i < voices.size(); ++i) {
      const bool video = i < r.reference_video_urls.size();
      const size_t n = video ? i + 1 : i - r.reference_video_urls.size() + 1;
      if (!video && n > r.image_urls.size()) return Refused("audio_urls", "more voices than references");
      r.voice_bindings.emplace_back(fmt::format("{}{}", video ? "video" : "image", n), voices[i]);
    }
  }
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  ASSIGN_OR_RETURN(auto ratio, f.EnumOr("aspect_ratio", "16:9", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, r.reference_video_urls.empty() ? 15 : 10));
  SetVideoOutput(r, duration, start ? std::nullopt : std::optional<std::string>(ratio));
  return p;
}

Result<Parsed> ParseVideoEdit(const json& body, Parsed p) {
  Fields f(body, "", kLenient);
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
  RETURN_IF_ERROR(ParseVideoCommon(f, r));
  ASSIGN_OR_RETURN(auto ratio, f.OptionalEnum("aspect_ratio", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(f));
  SetVideoOutput(r, duration, ratio);
  return p;
}

}  // namespace

Result<Parsed> ParseImage(const json& body) {
  Parsed p;
  std::string canonical;
  ASSIGN_OR_RETURN(p.model_alias, ParseModel(body, {"wan-2.7-image", "wan-2.7-image-pro"}, &canonical));
  Fields f(body);
  auto& r = p.request;
  r.model = std::string(canonical == "wan-2.7-image-pro" ? core::kModelImagePro : core::kModelImage);
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
  std::string canonical;
  ASSIGN_OR_RETURN(p.model_alias, ParseModel(body,
                                             {"wan2.7-text-to-video", "wan2.7-video-edit", "wan2.7-image-to-video",
                                              "wan2.7-reference-video"},
                                             &canonical));
  if (canonical == "wan2.7-video-edit") return ParseVideoEdit(body, std::move(p));
  if (canonical == "wan2.7-image-to-video") return ParseImageToVideo(body, std::move(p));
  if (canonical == "wan2.7-reference-video") return ParseReferenceToVideo(body, std::move(p));
  return ParseTextToVideo(body, std::move(p));
}

}  // namespace wanserve::api::dialects::unified
