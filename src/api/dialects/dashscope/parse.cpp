#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "api/dialects/common_rules.h"
#include "api/dialects/dashscope/internal.h"
#include "api/dialects/fields.h"
#include "common/text.h"

namespace wanserve::api::dialects::dashscope {
namespace {

Error Invalid(std::string message, std::string field) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message), std::move(field));
}

Result<std::string> Model(const json& body, std::initializer_list<std::string_view> served) {
  if (!body.contains("model") || !body["model"].is_string() || body["model"].get_ref<const std::string&>().empty()) {
    return Invalid("Required parameter \"model\" missing from request.", "model");
  }
  const std::string model = BaseModel(body["model"]);
  for (auto m : served) {
    if (model == m) return model;
  }
  return MakeError(ErrorCode::kUnsupportedModel, fmt::format("Model not exist: {}", body["model"].get<std::string>()),
                   "model");
}

// input (required object) and parameters (optional object).
Result<std::pair<const json*, json>> Sections(const json& body) {
  if (!body.contains("input") || !body["input"].is_object()) {
    return Invalid("Required parameter \"input\" missing from request.", "input");
  }
  json parameters = body.contains("parameters") ? body["parameters"] : json::object();
  if (!parameters.is_object()) return Invalid("parameters: must be an object", "parameters");
  return std::make_pair(&body["input"], std::move(parameters));
}

Status Common(const Fields& p, core::GenerationRequest& r) {
  ASSIGN_OR_RETURN(auto watermark, p.OptionalBool("watermark"));
  r.watermark = watermark.value_or(false);
  ASSIGN_OR_RETURN(r.seed, p.OptionalInt("seed", 0, 2147483647));
  return Status::Ok();
}

// One element of input.media: {type, url} and, on reference elements, reference_voice.
struct MediaItem {
  std::string type, url, voice, field;
};

// input.media, each element's type one of `types`.
Result<std::vector<MediaItem>> MediaList(const json& input, std::initializer_list<std::string_view> types) {
  std::string allowed;
  for (auto t : types) allowed += (allowed.empty() ? "" : ", ") + std::string(t);
  if (!input.contains("media") || !input["media"].is_array() || input["media"].empty()) {
    return Invalid("input.media: must be a list of {type, url} (" + allowed + ")", "input.media");
  }
  std::vector<MediaItem> items;
  for (size_t i = 0; i < input["media"].size(); ++i) {
    const json& m = input["media"][i];
    const std::string field = fmt::format("input.media[{}]", i);
    if (!m.is_object() || !m.contains("url") || !m["url"].is_string() || !m.contains("type") || !m["type"].is_string()) {
      return Invalid(field + ": must be {type, url} with string values", field);
    }
    MediaItem item{m["type"], m["url"], "", field};
    if (std::none_of(types.begin(), types.end(), [&](std::string_view t) { return item.type == t; })) {
      return Invalid(field + ".type: must be one of " + allowed, field + ".type");
    }
    RETURN_IF_ERROR(CheckUrl(item.url, field + ".url"));
    if (m.contains("reference_voice")) {
      if (!item.type.starts_with("reference_")) {
        return Invalid(field + ".reference_voice: only reference elements take a voice", field + ".reference_voice");
      }
      if (!m["reference_voice"].is_string()) return Invalid(field + ".reference_voice: must be a URL", field + ".reference_voice");
      item.voice = m["reference_voice"];
      RETURN_IF_ERROR(CheckUrl(item.voice, field + ".reference_voice"));
    }
    items.push_back(std::move(item));
  }
  return items;
}

// The edit's media: exactly one video and up to four reference images.
Status EditMedia(const json& input, core::GenerationRequest& r) {
  ASSIGN_OR_RETURN(auto items, MediaList(input, {"video", "reference_image"}));
  int videos = 0;
  for (const auto& m : items) {
    if (m.type == "video") {
      ++videos;
      r.video_url = m.url;
    } else {
      r.image_urls.push_back(m.url);
    }
  }
  if (videos != 1) return Invalid("input.media: must hold exactly one video", "input.media");
  if (r.image_urls.size() > 4) return Invalid("input.media: at most 4 reference images", "input.media");
  return Status::Ok();
}

// Image to video: first_frame, last_frame, driving_audio and first_clip, each at most once, in
// the combinations of API-DIALECTS-2 §1.2.
Status ImageToVideoMedia(const json& input, core::GenerationRequest& r) {
  ASSIGN_OR_RETURN(auto items, MediaList(input, {"first_frame", "last_frame", "driving_audio", "first_clip"}));
  std::map<std::string, std::string> by_type;
  for (const auto& m : items) {
    if (!by_type.emplace(m.type, m.url).second) return Invalid(m.field + ": one " + m.type + " at most", m.field);
  }
  auto mode = ImageToVideoMode(by_type.count("first_frame") > 0, by_type.count("last_frame") > 0,
                               by_type.count("first_clip") > 0, by_type.count("driving_audio") > 0);
  if (!mode.ok()) return Invalid("input.media: " + mode.error().message, "input.media");
  r.generation_mode = std::string(*mode);
  r.first_frame_url = by_type["first_frame"];
  r.last_frame_url = by_type["last_frame"];
  r.video_url = by_type["first_clip"];
  if (by_type.count("driving_audio")) r.audio_urls.push_back(by_type["driving_audio"]);
  return Status::Ok();
}

// Reference to video: 1-5 reference_image / reference_video (with their voices), at most one
// first_frame.
Status ReferenceMedia(const json& input, core::GenerationRequest& r) {
  ASSIGN_OR_RETURN(auto items, MediaList(input, {"reference_image", "reference_video", "first_frame"}));
  for (const auto& m : items) {
    if (m.type == "first_frame") {
      if (!r.first_frame_url.empty()) return Invalid(m.field + ": one first_frame at most", m.field);
      r.first_frame_url = m.url;
      continue;
    }
    const bool image = m.type == "reference_image";
    auto& list = image ? r.image_urls : r.reference_video_urls;
    list.push_back(m.url);
    if (!m.voice.empty()) r.voice_bindings.emplace_back(fmt::format("{}{}", image ? "image" : "video", list.size()), m.voice);
  }
  const size_t references = r.image_urls.size() + r.reference_video_urls.size();
  if (references < 1 || references > kMaxReferences) {
    return Invalid(fmt::format("input.media: 1-5 reference images and videos together are required, got {}", references),
                   "input.media");
  }
  return Status::Ok();
}

// "1K"/"2K"/"4K" (square) or "W*H" with sides of 512-4096 pixels.
Status ImageSize(const std::string& size, bool allow_4k, core::GenerationRequest& r) {
  if (size == "1K" || size == "2K" || (size == "4K" && allow_4k)) {
    r.width = r.height = size == "1K" ? 1024 : size == "2K" ? 2048 : 4096;
    r.resolution_tier = size;
    return Status::Ok();
  }
  const auto star = size.find('*');
  int w = 0;
  int h = 0;
  const char* end = size.data() + size.size();
  const bool parsed = star != std::string::npos &&
                      std::from_chars(size.data(), size.data() + star, w).ptr == size.data() + star &&
                      std::from_chars(size.data() + star + 1, end, h).ptr == end;
  if (!parsed || w < 512 || h < 512 || w > 4096 || h > 4096) {
    return Invalid(fmt::format("parameters.size: must be 1K, 2K{} or W*H with sides of 512-4096 (got {})",
                               allow_4k ? ", 4K" : "", size),
                   "parameters.size");
  }
  r.width = w;
  r.height = h;
  const int64_t area = static_cast<int64_t>(w) * h;
  r.resolution_tier = area > 2048 * 2048 ? "4K" : area > 1024 * 1024 ? "2K" : "1K";
  if (r.resolution_tier == "4K" && !allow_4k) {
    return Invalid("parameters.size: 4K output is for wan2.7-image-pro text-to-image only", "parameters.size");
  }
  return Status::Ok();
}

}  // namespace

std::string BaseModel(const std::string& model) {
  constexpr std::string_view kDate = "-2026-04-25";  // the shape: -YYYY-MM-DD
  if (model.size() <= kDate.size()) return model;
  const std::string_view date = std::string_view(model).substr(model.size() - kDate.size());
  for (size_t i = 0; i < date.size(); ++i) {
    const bool dash = i == 0 || i == 5 || i == 8;
    if (dash ? date[i] != '-' : (date[i] < '0' || date[i] > '9')) return model;
  }
  const std::string base = model.substr(0, model.size() - kDate.size());
  for (auto m : {core::kModelTextToVideo, core::kModelImageToVideo, core::kModelReferenceToVideo, core::kModelVideoEdit}) {
    if (base == m) return base;
  }
  return model;
}


Result<core::GenerationRequest> ParseVideo(const json& body) {
  ASSIGN_OR_RETURN(std::string model, Model(body, {core::kModelTextToVideo, core::kModelImageToVideo,
                                                   core::kModelReferenceToVideo, core::kModelVideoEdit}));
  ASSIGN_OR_RETURN(auto sections, Sections(body));
  const json& input = *sections.first;
  const Fields in(input, "input.");
  const Fields p(sections.second, "parameters.", {.numeric_strings = false, .case_insensitive_enums = true});
  core::GenerationRequest r;
  r.model = model;
  r.kind = model == core::kModelVideoEdit           ? core::RequestKind::kVideoEdit
           : model == core::kModelImageToVideo      ? core::RequestKind::kImageToVideo
           : model == core::kModelReferenceToVideo  ? core::RequestKind::kReferenceToVideo
                                                    : core::RequestKind::kTextToVideo;
  const bool prompt_required = r.kind == core::RequestKind::kTextToVideo || r.kind == core::RequestKind::kReferenceToVideo;
  ASSIGN_OR_RETURN(r.prompt, prompt_required ? in.RequiredString("prompt", 1, 5000) : in.StringOr("prompt", "", 5000));
  ASSIGN_OR_RETURN(r.negative_prompt, in.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(std::string resolution, p.EnumOr("resolution", "1080P", {"720P", "1080P"}));
  r.resolution_tier = resolution == "720P" ? "720p" : "1080p";
  ASSIGN_OR_RETURN(auto extend, p.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(true);
  RETURN_IF_ERROR(Common(p, r));
  // parameters.aspect_ratio stands for ratio when ratio is absent.
  ASSIGN_OR_RETURN(const std::string ratio_name, p.Pick({"ratio", "aspect_ratio"}));
  std::optional<std::string> ratio;
  if (!ratio_name.empty()) {
    ASSIGN_OR_RETURN(ratio, p.OptionalEnum(ratio_name, {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  }
  switch (r.kind) {
    case core::RequestKind::kVideoEdit: {
      RETURN_IF_ERROR(EditMedia(input, r));
      ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(p));
      ASSIGN_OR_RETURN(r.audio_setting, p.EnumOr("audio_setting", "auto", {"auto", "origin"}));
      SetVideoOutput(r, duration, ratio);
      return r;
    }
    case core::RequestKind::kImageToVideo: {
      RETURN_IF_ERROR(ImageToVideoMedia(input, r));
      ASSIGN_OR_RETURN(int64_t duration, p.IntOr("duration", 5, 2, 15));
      SetVideoOutput(r, duration, std::nullopt);  // no ratio: the first frame's (or the clip's)
      return r;
    }
    case core::RequestKind::kReferenceToVideo: {
      RETURN_IF_ERROR(ReferenceMedia(input, r));
      ASSIGN_OR_RETURN(int64_t duration, p.IntOr("duration", 5, 2, r.reference_video_urls.empty() ? 15 : 10));
      SetVideoOutput(r, duration, r.first_frame_url.empty() ? std::optional<std::string>(ratio.value_or("16:9"))
                                                            : std::nullopt);
      return r;
    }
    default: {
      if (in.Has("media")) return Invalid("input.media: not used by wan2.7-t2v", "input.media");
      ASSIGN_OR_RETURN(int64_t duration, p.IntOr("duration", 5, 2, 15));
      ASSIGN_OR_RETURN(auto audio, in.OptionalUrl("audio_url"));
      if (audio) r.audio_urls.push_back(*audio);
      SetVideoOutput(r, duration, ratio.value_or("16:9"));
      return r;
    }
  }
}

Result<core::GenerationRequest> ParseImage(const json& body) {
  ASSIGN_OR_RETURN(std::string model, Model(body, {core::kModelImage, core::kModelImagePro}));
  ASSIGN_OR_RETURN(auto sections, Sections(body));
  const json& input = *sections.first;
  const Fields p(sections.second, "parameters.");
  core::GenerationRequest r;
  r.model = model;
  if (!input.contains("messages") || !input["messages"].is_array() || input["messages"].size() != 1 ||
      !input["messages"][0].is_object() || !input["messages"][0].contains("role") ||
      input["messages"][0]["role"] != "user" ||
      !input["messages"][0].contains("content") || !input["messages"][0]["content"].is_array()) {
    return Invalid("input.messages: must hold one user message with a content list", "input.messages");
  }
  const json& content = input["messages"][0]["content"];
  int texts = 0;
  for (size_t i = 0; i < content.size(); ++i) {
    const json& part = content[i];
    const std::string field = fmt::format("input.messages[0].content[{}]", i);
    if (part.is_object() && part.contains("text") && part["text"].is_string()) {
      r.prompt = part["text"];
      // Characters, not bytes: 5000 Chinese characters are 15000 bytes.
      const std::optional<size_t> characters = Utf8Length(r.prompt);
      if (!characters) return Invalid(field + ".text: must be valid UTF-8", field + ".text");
      if (*characters < 1 || *characters > 5000) {
        return Invalid(field + ".text: must be 1-5000 characters", field + ".text");
      }
      ++texts;
    } else if (part.is_object() && part.contains("image") && part["image"].is_string()) {
      RETURN_IF_ERROR(CheckUrl(part["image"], field + ".image"));
      r.image_urls.push_back(part["image"]);
    } else {
      return Invalid(field + ": must be {text} or {image}", field);
    }
  }
  if (texts != 1) return Invalid("input.messages[0].content: must hold exactly one text", "input.messages");
  if (r.image_urls.size() > 9) return Invalid("input.messages[0].content: at most 9 images", "input.messages");
  r.kind = r.image_urls.empty() ? core::RequestKind::kTextToImage : core::RequestKind::kImageEdit;
  ASSIGN_OR_RETURN(auto sequential, p.OptionalBool("enable_sequential"));
  r.sequential = sequential.value_or(false);
  ASSIGN_OR_RETURN(int64_t n, p.IntOr("n", 1, 1, r.sequential ? 12 : 4));
  r.count = static_cast<int>(n);
  ASSIGN_OR_RETURN(std::string size, p.StringOr("size", "2K", 16));
  const bool allow_4k = model == core::kModelImagePro && r.kind == core::RequestKind::kTextToImage && !r.sequential;
  RETURN_IF_ERROR(ImageSize(size, allow_4k, r));
  ASSIGN_OR_RETURN(auto thinking, p.OptionalBool("thinking_mode"));
  // Thinking mode only applies to text-to-image outside image-set mode.
  if (r.kind == core::RequestKind::kTextToImage && !r.sequential) r.thinking_mode = thinking.value_or(true);
  RETURN_IF_ERROR(Common(p, r));
  return r;
}

}  // namespace wanserve::api::dialects::dashscope
