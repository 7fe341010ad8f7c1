#include <fmt/format.h>

#include <charconv>

#include "api/dialects/common_rules.h"
#include "api/dialects/dashscope/internal.h"
#include "api/dialects/fields.h"

namespace wanserve::api::dialects::dashscope {
namespace {

Error Invalid(std::string message, std::string field) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message), std::move(field));
}

Result<std::string> Model(const json& body, std::initializer_list<std::string_view> served) {
  if (!body.contains("model") || !body["model"].is_string() || body["model"].get_ref<const std::string&>().empty()) {
    return Invalid("Required parameter \"model\" missing from request.", "model");
  }
  const std::string model = body["model"];
  for (auto m : served) {
    if (model == m) return model;
  }
  return MakeError(ErrorCode::kUnsupportedModel, fmt::format("Model not exist: {}", model), "model");
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

// The edit's media list: exactly one video and up to four reference images.
Status Media(const json& input, core::GenerationRequest& r) {
  if (!input.contains("media") || !input["media"].is_array()) {
    return Invalid("input.media: must list one video and up to 4 reference images", "input.media");
  }
  int videos = 0;
  for (size_t i = 0; i < input["media"].size(); ++i) {
    const json& m = input["media"][i];
    const std::string field = fmt::format("input.media[{}]", i);
    if (!m.is_object() || !m.contains("url") || !m["url"].is_string()) {
      return Invalid(field + ": must be {type, url}", field);
    }
    const std::string url = m["url"];
    RETURN_IF_ERROR(CheckUrl(url, field + ".url"));
    const std::string type = m.value("type", "");
    if (type == "video") {
      ++videos;
      r.video_url = url;
    } else if (type == "reference_image") {
      r.image_urls.push_back(url);
    } else {
      return Invalid(field + ".type: must be video or reference_image", field + ".type");
    }
  }
  if (videos != 1) return Invalid("input.media: must hold exactly one video", "input.media");
  if (r.image_urls.size() > 4) return Invalid("input.media: at most 4 reference images", "input.media");
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

Result<core::GenerationRequest> ParseVideo(const json& body) {
  ASSIGN_OR_RETURN(std::string model, Model(body, {core::kModelTextToVideo, core::kModelVideoEdit}));
  ASSIGN_OR_RETURN(auto sections, Sections(body));
  const json& input = *sections.first;
  const Fields in(input, "input.");
  const Fields p(sections.second, "parameters.");
  core::GenerationRequest r;
  r.model = model;
  const bool edit = model == core::kModelVideoEdit;
  r.kind = edit ? core::RequestKind::kVideoEdit : core::RequestKind::kTextToVideo;
  if (edit) {
    ASSIGN_OR_RETURN(r.prompt, in.StringOr("prompt", "", 5000));
  } else {
    ASSIGN_OR_RETURN(r.prompt, in.RequiredString("prompt", 1, 5000));
  }
  ASSIGN_OR_RETURN(r.negative_prompt, in.StringOr("negative_prompt", "", 500));
  ASSIGN_OR_RETURN(std::string resolution, p.EnumOr("resolution", "1080P", {"720P", "1080P"}));
  r.resolution_tier = resolution == "720P" ? "720p" : "1080p";
  ASSIGN_OR_RETURN(auto extend, p.OptionalBool("prompt_extend"));
  r.prompt_extend = extend.value_or(true);
  RETURN_IF_ERROR(Common(p, r));
  if (!edit) {
    if (in.Has("media")) return Invalid("input.media: not used by wan2.7-t2v", "input.media");
    ASSIGN_OR_RETURN(std::string ratio, p.EnumOr("ratio", "16:9", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
    ASSIGN_OR_RETURN(int64_t duration, p.IntOr("duration", 5, 2, 15));
    ASSIGN_OR_RETURN(auto audio, in.OptionalUrl("audio_url"));
    if (audio) r.audio_urls.push_back(*audio);
    SetVideoOutput(r, duration, ratio);
    return r;
  }
  RETURN_IF_ERROR(Media(input, r));
  ASSIGN_OR_RETURN(auto ratio, p.OptionalEnum("ratio", {"16:9", "9:16", "1:1", "4:3", "3:4"}));
  ASSIGN_OR_RETURN(int64_t duration, ParseEditDuration(p));
  ASSIGN_OR_RETURN(r.audio_setting, p.EnumOr("audio_setting", "auto", {"auto", "origin"}));
  SetVideoOutput(r, duration, ratio);
  return r;
}

Result<core::GenerationRequest> ParseImage(const json& body) {
  ASSIGN_OR_RETURN(std::string model, Model(body, {core::kModelImage, core::kModelImagePro}));
  ASSIGN_OR_RETURN(auto sections, Sections(body));
  const json& input = *sections.first;
  const Fields p(sections.second, "parameters.");
  core::GenerationRequest r;
  r.model = model;
  if (!input.contains("messages") || !input["messages"].is_array() || input["messages"].size() != 1 ||
      !input["messages"][0].is_object() || input["messages"][0].value("role", "") != "user" ||
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
      if (r.prompt.empty() || r.prompt.size() > 5000) {
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
