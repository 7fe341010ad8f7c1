// POST /api/v1/generation/wan/wan-v2.7-video: one endpoint for text- and image-to-video,
// first-and-last-frame, reference-to-video and video edit, chosen by `feature`
// (API-DIALECTS-2 §4). Fields that belong to another feature are ignored.
#include <fmt/format.h>

#include "api/dialects/common_rules.h"
#include "api/dialects/fields.h"
#include "api/dialects/skills_video/internal.h"

namespace wanserve::api::dialects::skills_video {
namespace {

constexpr int64_t kSeedMax = 2147483647;
constexpr size_t kMaxListedReferences = 8;  // the schema's limit; the model takes 5 in all
constexpr std::string_view kMultiShotHint = " Tell it in several shots with cuts between them.";

enum class Feature { kTextImage, kFrames, kReference, kEditVideo };

Error Refused(const std::string& field, const std::string& why) {
  return MakeError(ErrorCode::kInvalidInput, field + ": " + why, field);
}

// The feature named, in the spellings clients are known to send.
Result<std::pair<Feature, std::string_view>> ParseFeature(const Fields& f) {
  ASSIGN_OR_RETURN(std::string name,
                   f.EnumOr("feature", "text-image",
                            {"text-image", "frames", "reference", "edit-video", "frames-to-video",
                             "reference-to-video", "edit_video"}));
  if (name == "frames" || name == "frames-to-video") return std::pair{Feature::kFrames, std::string_view("frames")};
  if (name == "reference" || name == "reference-to-video") {
    return std::pair{Feature::kReference, std::string_view("reference")};
  }
  if (name == "edit-video" || name == "edit_video") return std::pair{Feature::kEditVideo, std::string_view("edit-video")};
  return std::pair{Feature::kTextImage, std::string_view("text-image")};
}

const std::initializer_list<std::string_view> kRatios = {"16:9", "9:16", "1:1", "4:3", "3:4"};

// Text to video, or image to video when a first frame or a clip is given.
Status ParseTextImage(const Fields& f, Feature feature, Parsed& p) {
  auto& r = p.request;
  ASSIGN_OR_RETURN(auto first, f.OptionalUrl("image_url"));
  ASSIGN_OR_RETURN(auto clip, feature == Feature::kTextImage ? f.OptionalUrl("video_url")
                                                             : Result<std::optional<std::string>>(std::nullopt));
  ASSIGN_OR_RETURN(auto last, feature == Feature::kFrames ? f.OptionalUrl("end_image_url")
                                                          : Result<std::optional<std::string>>(std::nullopt));
  ASSIGN_OR_RETURN(auto audio, f.OptionalUrl("audio_url"));
  if (audio) r.audio_urls = {*audio};
  if (feature == Feature::kTextImage && !first && !clip) {
    r.kind = core::RequestKind::kTextToVideo;
    r.model = std::string(core::kModelTextToVideo);
    ASSIGN_OR_RETURN(std::string ratio, f.EnumOr("aspect_ratio", "16:9", kRatios));
    ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
    SetVideoOutput(r, duration, ratio);
    p.echo["aspect_ratio"] = ratio;
    p.echo["duration"] = duration;
    return Status::Ok();
  }
  auto mode = ImageToVideoMode(first.has_value(), last.has_value(), clip.has_value(), audio.has_value());
  if (!mode.ok()) {
    const std::string field = clip && audio && !first ? "audio_url" : "image_url";
    return Refused(field, mode.error().message);
  }
  r.kind = core::RequestKind::kImageToVideo;
  r.model = std::string(core::kModelImageToVideo);
  r.generation_mode = std::string(*mode);
  r.first_frame_url = first.value_or("");
  r.last_frame_url = last.value_or("");
  r.video_url = clip.value_or("");
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, 15));
  SetVideoOutput(r, duration, std::nullopt);  // the first frame's (or the clip's) ratio
  p.echo["duration"] = duration;
  if (first) p.echo["image_url"] = *first;
  if (last) p.echo["end_image_url"] = *last;
  if (clip) p.echo["video_url"] = *clip;
  return Status::Ok();
}

Status ParseReference(const Fields& f, Parsed& p) {
  auto& r = p.request;
  r.kind = core::RequestKind::kReferenceToVideo;
  r.model = std::string(core::kModelReferenceToVideo);
  ASSIGN_OR_RETURN(r.image_urls, f.UrlList("reference_image_urls", 0, kMaxListedReferences));
  ASSIGN_OR_RETURN(r.reference_video_urls, f.UrlList("video_refs", 0, kMaxListedReferences));
  const size_t references = r.image_urls.size() + r.reference_video_urls.size();
  if (references < 1 || references > kMaxReferences) {
    return Refused("reference_image_urls",
                   fmt::format("1-5 references (reference_image_urls and video_refs together) are required, got {}",
                               references));
  }
  ASSIGN_OR_RETURN(std::string ratio, f.EnumOr("aspect_ratio", "16:9", kRatios));
  ASSIGN_OR_RETURN(int64_t duration, f.IntOr("duration", 5, 2, r.reference_video_urls.empty() ? 15 : 10));
  ASSIGN_OR_RETURN(auto multi_shots, f.OptionalBool("multi_shots"));
  if (multi_shots.value_or(false)) r.prompt += kMultiShotHint;
  SetVideoOutput(r, duration, ratio);
  p.echo["aspect_ratio"] = ratio;
  p.echo["duration"] = duration;
  p.echo["reference_image_urls"] = r.image_urls;
  p.echo["video_refs"] = r.reference_video_urls;
  p.echo["multi_shots"] = multi_shots.value_or(false);
  return Status::Ok();
}

Status ParseEdit(const Fields& f, Parsed& p) {
  auto& r = p.request;
  r.kind = core::RequestKind::kVideoEdit;
  r.model = std::string(core::kModelVideoEdit);
  ASSIGN_OR_RETURN(r.video_url, f.RequiredUrl("video_url"));
  // The reference is reference_image_urls[0] or reference_image_url; both must agree.
  ASSIGN_OR_RETURN(auto listed, f.UrlList("reference_image_urls", 0, kMaxListedReferences));
  ASSIGN_OR_RETURN(auto single, f.OptionalUrl("reference_image_url"));
  if (!listed.empty() && single && listed.front() != *single) {
    return Refused("reference_image_url", "differs from reference_image_urls[0]; send one of them");
  }
  if (!listed.empty()) r.image_urls = {listed.front()};
  else if (single) r.image_urls = {*single};
  ASSIGN_OR_RETURN(auto ratio, f.OptionalEnum("aspect_ratio", kRatios));
  ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(f));
  ASSIGN_OR_RETURN(r.audio_setting, f.EnumOr("audio_setting", "auto", {"auto", "origin"}));
  SetVideoOutput(r, duration, ratio);
  p.echo["video_url"] = r.video_url;
  p.echo["duration"] = duration;
  p.echo["audio_setting"] = r.audio_setting;
  if (ratio) p.echo["aspect_ratio"] = *ratio;
  if (!r.image_urls.empty()) p.echo["reference_image_url"] = r.image_urls.front();
  return Status::Ok();
}

}  // namespace

Result<Parsed> ParseVideo(const json& body, Leniency leniency) {
  Fields f(body, "", leniency);
  Parsed p;
  auto& r = p.request;
  ASSIGN_OR_RETURN(auto feature, ParseFeature(f));
  const bool prompt_required = feature.first == Feature::kReference || feature.first == Feature::kEditVideo;
  if (prompt_required) {
    ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 5000));
  } else {
    ASSIGN_OR_RETURN(r.prompt, f.StringOr("prompt", "", 5000));
  }
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("resolution", "1080p", {"720p", "1080p"}));
  ASSIGN_OR_RETURN(auto expansion, f.OptionalBool("enable_prompt_expansion"));
  r.prompt_extend = expansion.value_or(true);
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  p.echo = {{"feature", feature.second}, {"prompt", r.prompt}};
  switch (feature.first) {
    case Feature::kTextImage:
    case Feature::kFrames: RETURN_IF_ERROR(ParseTextImage(f, feature.first, p)); break;
    case Feature::kReference: RETURN_IF_ERROR(ParseReference(f, p)); break;
    case Feature::kEditVideo: RETURN_IF_ERROR(ParseEdit(f, p)); break;
  }
  p.echo["resolution"] = r.resolution_tier;
  p.echo["enable_prompt_expansion"] = *r.prompt_extend;
  p.echo["n"] = 1;
  if (!r.negative_prompt.empty()) p.echo["negative_prompt"] = r.negative_prompt;
  if (!r.audio_urls.empty()) p.echo["audio_url"] = r.audio_urls.front();
  if (r.seed) p.echo["seed"] = *r.seed;
  return p;
}

}  // namespace wanserve::api::dialects::skills_video
