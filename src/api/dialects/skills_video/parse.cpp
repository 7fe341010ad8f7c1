#include <fmt/format.h>

#include "api/dialects/common_rules.h"
#include "api/dialects/fields.h"
#include "api/dialects/sizes.h"
#include "api/dialects/skills_video/internal.h"

namespace wanserve::api::dialects::skills_video {
namespace {

constexpr int64_t kSeedMax = 2147483647;

Result<Parsed> ParseImage(const json& body, bool pro, Leniency leniency) {
  Fields f(body, "", leniency);
  Parsed p;
  auto& r = p.request;
  r.model = std::string(pro ? core::kModelImagePro : core::kModelImage);
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 2000));
  ASSIGN_OR_RETURN(r.image_urls, f.UrlArray("image_urls", 0, 4));
  const bool edit = !r.image_urls.empty();
  r.kind = edit ? core::RequestKind::kImageEdit : core::RequestKind::kTextToImage;
  if (edit) r.min_image_side = 384;  // seed: "Each image must be at least 384x384 pixels"
  ASSIGN_OR_RETURN(r.negative_prompt, f.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(std::string ratio, f.EnumOr("aspect_ratio", "1:1", {"1:1", "3:4", "9:16", "4:3", "16:9"}));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  ASSIGN_OR_RETURN(int64_t num_images, f.IntOr("num_images", 1, 1, 5));
  ASSIGN_OR_RETURN(int64_t n, f.IntOr("n", 1, 1, 4));
  int64_t max_images = 1;
  Size size = *ImageAspectSize(ratio);
  std::optional<std::string> image_size;
  if (pro) {
    ASSIGN_OR_RETURN(image_size, f.OptionalEnum("image_size", {"square_hd", "square", "portrait_4_3",
                                                               "portrait_16_9", "portrait_9_16",
                                                               "landscape_4_3", "landscape_16_9"}));
    if (image_size) size = *ImagePresetSize(*image_size);
    ASSIGN_OR_RETURN(auto expansion, f.OptionalBool("enable_prompt_expansion"));
    ASSIGN_OR_RETURN(auto safety, f.OptionalBool("enable_safety_checker"));
    ASSIGN_OR_RETURN(max_images, f.IntOr("max_images", 1, 1, 5));
    // Prompt expansion exists in edit mode only; its default there is on.
    if (edit) r.prompt_extend = expansion.value_or(true);
    r.safety_checker = safety.value_or(true);
  }
  if (edit && num_images > 4) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("num_images: edit mode supports 1-4 images (got {})", num_images), "num_images");
  }
  if (edit && pro && f.Has("max_images") && max_images > 1) {
    return MakeError(ErrorCode::kInvalidInput, "max_images: only available in text-to-image mode", "max_images");
  }
  // n and num_images both ask for several results; the larger wins and is echoed as n.
  r.count = static_cast<int>(std::max({n, num_images, max_images}));
  if (r.count > (edit ? 4 : 5)) {
    return MakeError(ErrorCode::kInvalidInput,
                     fmt::format("n: {} mode supports at most {} images", edit ? "edit" : "text", edit ? 4 : 5), "n");
  }
  r.aspect_ratio = ratio;
  r.width = size.width;
  r.height = size.height;
  r.resolution_tier = fmt::format("{}x{}", size.width, size.height);

  p.echo = {{"prompt", r.prompt}, {"aspect_ratio", ratio}, {"resolution", r.resolution_tier}, {"n", r.count}};
  if (!r.negative_prompt.empty()) p.echo["negative_prompt"] = r.negative_prompt;
  if (edit) p.echo["image_urls"] = r.image_urls;
  if (r.seed) p.echo["seed"] = *r.seed;
  if (image_size) p.echo["image_size"] = *image_size;
  if (r.prompt_extend) p.echo["enable_prompt_expansion"] = *r.prompt_extend;
  if (r.safety_checker) p.echo["enable_safety_checker"] = *r.safety_checker;
  return p;
}

Result<Parsed> ParseEditVideo(const json& body, Leniency leniency) {
  Fields f(body, "", leniency);
  Parsed p;
  auto& r = p.request;
  r.kind = core::RequestKind::kVideoEdit;
  r.model = std::string(core::kModelVideoEdit);
  // The seed gives only a minimum; 5000 is the upstream model's limit.
  ASSIGN_OR_RETURN(r.prompt, f.RequiredString("prompt", 1, 5000));
  ASSIGN_OR_RETURN(r.video_url, f.RequiredUrl("video_url"));
  ASSIGN_OR_RETURN(auto reference, f.OptionalUrl("reference_image_url"));
  if (reference) r.image_urls.push_back(*reference);
  ASSIGN_OR_RETURN(r.resolution_tier, f.EnumOr("resolution", "1080p", {"720p", "1080p"}));
  ASSIGN_OR_RETURN(auto ratio, f.OptionalEnum("aspect_ratio", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(f));
  ASSIGN_OR_RETURN(r.audio_setting, f.EnumOr("audio_setting", "auto", {"auto", "origin"}));
  ASSIGN_OR_RETURN(r.seed, f.OptionalInt("seed", 0, kSeedMax));
  ASSIGN_OR_RETURN(int64_t n, f.IntOr("n", 1, 1, 4));
  r.count = static_cast<int>(n);
  SetVideoOutput(r, duration, ratio);

  p.echo = {{"prompt", r.prompt}, {"video_url", r.video_url}, {"duration", duration},
            {"resolution", r.resolution_tier}, {"audio_setting", r.audio_setting}, {"n", r.count}};
  if (ratio) p.echo["aspect_ratio"] = *ratio;
  if (reference) p.echo["reference_image_url"] = *reference;
  if (r.seed) p.echo["seed"] = *r.seed;
  return p;
}

}  // namespace

Result<Parsed> Parse(Endpoint endpoint, const json& body, Leniency leniency) {
  switch (endpoint) {
    case Endpoint::kImage: return ParseImage(body, false, leniency);
    case Endpoint::kImagePro: return ParseImage(body, true, leniency);
    case Endpoint::kEditVideo: return ParseEditVideo(body, leniency);
    case Endpoint::kVideo: return ParseVideo(body, leniency);
  }
  return MakeError(ErrorCode::kInternal, "unknown endpoint");
}

}  // namespace wanserve::api::dialects::skills_video
