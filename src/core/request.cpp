#include "core/request.h"

#include <nlohmann/json.hpp>

namespace wanserve::core {

using nlohmann::json;

std::string_view ToString(RequestKind kind) {
  switch (kind) {
    case RequestKind::kTextToImage: return "text_to_image";
    case RequestKind::kImageEdit: return "image_edit";
    case RequestKind::kTextToVideo: return "text_to_video";
    case RequestKind::kVideoEdit: return "video_edit";
    case RequestKind::kImageToVideo: return "image_to_video";
    case RequestKind::kReferenceToVideo: return "reference_to_video";
  }
  return "text_to_image";
}

std::optional<RequestKind> ParseRequestKind(std::string_view s) {
  for (auto k : {RequestKind::kTextToImage, RequestKind::kImageEdit, RequestKind::kTextToVideo,
                 RequestKind::kVideoEdit, RequestKind::kImageToVideo, RequestKind::kReferenceToVideo}) {
    if (ToString(k) == s) return k;
  }
  return std::nullopt;
}

bool IsVideo(RequestKind kind) {
  return kind != RequestKind::kTextToImage && kind != RequestKind::kImageEdit;
}

const std::vector<std::string_view>& KnownModels() {
  static const std::vector<std::string_view> models{kModelImage,     kModelImagePro,     kModelTextToVideo,
                                                    kModelVideoEdit, kModelImageToVideo, kModelReferenceToVideo};
  return models;
}

std::vector<RequestKind> KindsOfModel(std::string_view model) {
  if (model == kModelImage || model == kModelImagePro) return {RequestKind::kTextToImage, RequestKind::kImageEdit};
  if (model == kModelTextToVideo) return {RequestKind::kTextToVideo};
  if (model == kModelVideoEdit) return {RequestKind::kVideoEdit};
  if (model == kModelImageToVideo) return {RequestKind::kImageToVideo};
  if (model == kModelReferenceToVideo) return {RequestKind::kReferenceToVideo};
  return {};
}

std::string RouteOf(std::string_view model, RequestKind kind) {
  return std::string(model) + "/" + std::string(ToString(kind));
}

namespace {

template <typename T>
void PutOptional(json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = *v;
}

template <typename T>
std::optional<T> GetOptional(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

}  // namespace

std::string EncodeRequest(const GenerationRequest& r) {
  json j = {{"kind", ToString(r.kind)},
            {"model", r.model},
            {"prompt", r.prompt},
            {"negative_prompt", r.negative_prompt},
            {"image_urls", r.image_urls},
            {"video_url", r.video_url},
            {"audio_urls", r.audio_urls},
            {"width", r.width},
            {"height", r.height},
            {"aspect_ratio", r.aspect_ratio},
            {"resolution_tier", r.resolution_tier},
            {"duration_s", r.duration_s},
            {"fps", r.fps},
            {"count", r.count},
            {"sequential", r.sequential},
            {"audio_setting", r.audio_setting},
            {"callback_url", r.callback_url}};
  PutOptional(j, "seed", r.seed);
  PutOptional(j, "prompt_extend", r.prompt_extend);
  PutOptional(j, "thinking_mode", r.thinking_mode);
  PutOptional(j, "watermark", r.watermark);
  PutOptional(j, "safety_checker", r.safety_checker);
  if (r.min_image_side > 0) j["min_image_side"] = r.min_image_side;
  // Fields added later are written only when set, so earlier rows and new ones read alike.
  if (!r.first_frame_url.empty()) j["first_frame_url"] = r.first_frame_url;
  if (!r.last_frame_url.empty()) j["last_frame_url"] = r.last_frame_url;
  if (!r.generation_mode.empty()) j["generation_mode"] = r.generation_mode;
  if (!r.reference_video_urls.empty()) j["reference_video_urls"] = r.reference_video_urls;
  if (!r.voice_bindings.empty()) j["voice_bindings"] = r.voice_bindings;
  return j.dump();
}

Result<GenerationRequest> DecodeRequest(std::string_view text) {
  try {
    json j = json::parse(text);
    GenerationRequest r;
    auto kind = ParseRequestKind(j.at("kind").get<std::string>());
    if (!kind) return MakeError(ErrorCode::kInternal, "stored request has an unknown kind");
    r.kind = *kind;
    j.at("model").get_to(r.model);
    j.at("prompt").get_to(r.prompt);
    j.at("negative_prompt").get_to(r.negative_prompt);
    j.at("image_urls").get_to(r.image_urls);
    j.at("video_url").get_to(r.video_url);
    j.at("audio_urls").get_to(r.audio_urls);
    j.at("width").get_to(r.width);
    j.at("height").get_to(r.height);
    j.at("aspect_ratio").get_to(r.aspect_ratio);
    j.at("resolution_tier").get_to(r.resolution_tier);
    j.at("duration_s").get_to(r.duration_s);
    j.at("fps").get_to(r.fps);
    j.at("count").get_to(r.count);
    j.at("sequential").get_to(r.sequential);
    j.at("audio_setting").get_to(r.audio_setting);
    j.at("callback_url").get_to(r.callback_url);
    r.seed = GetOptional<int64_t>(j, "seed");
    r.prompt_extend = GetOptional<bool>(j, "prompt_extend");
    r.thinking_mode = GetOptional<bool>(j, "thinking_mode");
    r.watermark = GetOptional<bool>(j, "watermark");
    r.safety_checker = GetOptional<bool>(j, "safety_checker");
    r.min_image_side = GetOptional<int>(j, "min_image_side").value_or(0);
    r.first_frame_url = GetOptional<std::string>(j, "first_frame_url").value_or("");
    r.last_frame_url = GetOptional<std::string>(j, "last_frame_url").value_or("");
    r.generation_mode = GetOptional<std::string>(j, "generation_mode").value_or("");
    r.reference_video_urls = GetOptional<std::vector<std::string>>(j, "reference_video_urls").value_or(
        std::vector<std::string>{});
    r.voice_bindings = GetOptional<std::vector<std::pair<std::string, std::string>>>(j, "voice_bindings")
                           .value_or(std::vector<std::pair<std::string, std::string>>{});
    return r;
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kInternal, std::string("stored request is corrupt: ") + e.what());
  }
}

}  // namespace wanserve::core
