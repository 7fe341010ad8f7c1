#include "providers/dashscope/protocol.h"

#include <fmt/format.h>

#include <cmath>

namespace wanserve::providers::dashscope {
namespace {

using nlohmann::json;

std::string VideoResolution(const core::GenerationRequest& r) {
  if (r.resolution_tier == "720p") return "720P";
  if (r.resolution_tier == "1080p") return "1080P";
  return std::min(r.width, r.height) <= 720 ? "720P" : "1080P";
}

// The switches every Wan 2.7 call shares; unset ones are left to DashScope's defaults.
void AddCommon(const core::GenerationRequest& r, json& parameters) {
  parameters["watermark"] = r.watermark.value_or(false);
  if (r.seed) parameters["seed"] = *r.seed;
}

CreateCall Image(const core::GenerationRequest& r) {
  json content = json::array();
  content.push_back({{"text", r.prompt}});
  for (const auto& url : r.image_urls) content.push_back({{"image", url}});
  json parameters = {{"size", fmt::format("{}*{}", r.width, r.height)}, {"n", r.count}};
  AddCommon(r, parameters);
  if (r.sequential) parameters["enable_sequential"] = true;
  // Thinking mode applies to text-to-image outside image-set mode only.
  if (r.thinking_mode && r.kind == core::RequestKind::kTextToImage && !r.sequential) {
    parameters["thinking_mode"] = *r.thinking_mode;
  }
  return {"/services/aigc/image-generation/generation",
          {{"model", r.model},
           {"input", {{"messages", json::array({{{"role", "user"}, {"content", content}}})}}},
           {"parameters", parameters}}};
}

CreateCall Video(const core::GenerationRequest& r) {
  json input = json::object();
  if (!r.prompt.empty()) input["prompt"] = r.prompt;
  if (!r.negative_prompt.empty()) input["negative_prompt"] = r.negative_prompt;
  json parameters = {{"resolution", VideoResolution(r)}, {"duration", static_cast<int>(std::lround(r.duration_s))}};
  if (!r.aspect_ratio.empty()) parameters["ratio"] = r.aspect_ratio;
  if (r.prompt_extend) parameters["prompt_extend"] = *r.prompt_extend;
  AddCommon(r, parameters);
  if (r.kind == core::RequestKind::kTextToVideo) {
    if (!r.audio_urls.empty()) input["audio_url"] = r.audio_urls.front();
  } else if (r.kind == core::RequestKind::kImageToVideo) {
    json media = json::array();
    if (!r.first_frame_url.empty()) media.push_back({{"type", "first_frame"}, {"url", r.first_frame_url}});
    if (!r.last_frame_url.empty()) media.push_back({{"type", "last_frame"}, {"url", r.last_frame_url}});
    if (!r.video_url.empty()) media.push_back({{"type", "first_clip"}, {"url", r.video_url}});
    if (!r.audio_urls.empty()) media.push_back({{"type", "driving_audio"}, {"url", r.audio_urls.front()}});
    input["media"] = media;
    parameters.erase("ratio");  // the first frame's (or the clip's) ratio wins
  } else if (r.kind == core::RequestKind::kReferenceToVideo) {
    json media = json::array();
    const auto voice_of = [&](const std::string& target) {
      for (const auto& [t, url] : r.voice_bindings) {
        if (t == target) return url;
      }
      return std::string();
    };
    const auto add = [&](const char* type, const std::string& url, const std::string& target) {
      json element = {{"type", type}, {"url", url}};
      if (const std::string voice = voice_of(target); !voice.empty()) element["reference_voice"] = voice;
      media.push_back(element);
    };
    for (size_t i = 0; i < r.image_urls.size(); ++i) add("reference_image", r.image_urls[i], fmt::format("image{}", i + 1));
    for (size_t i = 0; i < r.reference_video_urls.size(); ++i) {
      add("reference_video", r.reference_video_urls[i], fmt::format("video{}", i + 1));
    }
    if (!r.first_frame_url.empty()) {
      media.push_back({{"type", "first_frame"}, {"url", r.first_frame_url}});
      parameters.erase("ratio");  // the first frame's ratio wins
    }
    input["media"] = media;
  } else {
    json media = json::array({{{"type", "video"}, {"url", r.video_url}}});
    for (const auto& url : r.image_urls) media.push_back({{"type", "reference_image"}, {"url", url}});
    input["media"] = media;
    if (!r.audio_setting.empty()) parameters["audio_setting"] = r.audio_setting;
  }
  return {"/services/aigc/video-generation/video-synthesis",
          {{"model", r.model}, {"input", input}, {"parameters", parameters}}};
}

std::string Text(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Error Malformed(std::string_view what) {
  Error e = MakeError(ErrorCode::kUpstreamFailed, fmt::format("DashScope sent a malformed answer: {}", what));
  e.detail_code = "upstream_malformed";
  return e;
}

// An error body {request_id, code, message}, or a bare HTTP failure.
Error HttpFailure(long status, const json& body) {
  const std::string code = body.is_object() ? Text(body, "code") : std::string();
  const std::string message = body.is_object() ? Text(body, "message") : std::string();
  return MapError(status, code, message.empty() ? fmt::format("DashScope answered HTTP {}", status) : message);
}

}  // namespace

Error ParseFailure(long http_status, std::string_view body) {
  return HttpFailure(http_status, json::parse(body, nullptr, false));
}

CreateCall BuildCreate(const core::GenerationRequest& request) {
  return core::IsVideo(request.kind) ? Video(request) : Image(request);
}

Error MapError(long http_status, const std::string& code, const std::string& message) {
  // Refusals of the operator's own account: another provider would only hide them.
  std::string_view configuration;
  if (code == "InvalidApiKey" || http_status == 401) {
    configuration = providers::kProviderAuthFailed;
  } else if (code == "AccessDenied" || code.starts_with("AccessDenied.") || code == "ModelNotFound" ||
             http_status == 403) {
    configuration = providers::kProviderAccessDenied;
  } else if (code == "Arrearage" || code == "AllocationQuota.FreeTierOnly") {
    configuration = providers::kProviderQuotaExhausted;
  }
  if (!configuration.empty()) {
    Error e = MakeError(ErrorCode::kUnavailable,
                        fmt::format("DashScope refused this server's account ({}): {}",
                                    code.empty() ? fmt::format("HTTP {}", http_status) : code, message));
    e.detail_code = std::string(configuration);
    return e;
  }
  ErrorCode ours = ErrorCode::kUpstreamFailed;
  if (code == "InvalidParameter" || code == "InvalidURL" || code.starts_with("BadRequest")) {
    ours = ErrorCode::kInvalidInput;
  } else if (code == "DataInspectionFailed" || code.starts_with("DataInspection")) {
    ours = ErrorCode::kContentRejected;
  } else if (code.starts_with("Throttling") || http_status == 429) {
    ours = ErrorCode::kRateLimited;
  } else if (http_status == 404 || http_status >= 500) {
    // DashScope itself: never the client's fault, and another provider may take the task.
    ours = ErrorCode::kUnavailable;
  }
  Error e = MakeError(ours, fmt::format("DashScope: {}", message));
  e.detail_code = code.empty() ? fmt::format("upstream_http_{}", http_status) : code;
  return e;
}

Result<std::string> ParseCreated(long http_status, std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (http_status != 200) return HttpFailure(http_status, j);
  if (!j.is_object() || !j.contains("output") || !j["output"].is_object()) return Malformed("no output");
  std::string id = Text(j["output"], "task_id");
  if (id.empty()) return Malformed("no output.task_id");
  return id;
}

Result<UpstreamStatus> ParseTask(long http_status, std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  if (http_status != 200) return HttpFailure(http_status, j);
  if (!j.is_object() || !j.contains("output") || !j["output"].is_object()) return Malformed("no output");
  const json& out = j["output"];
  UpstreamStatus s;
  s.raw_status = Text(out, "task_status");
  if (s.raw_status == "PENDING") {
    s.phase = UpstreamPhase::kPending;
  } else if (s.raw_status == "RUNNING" || s.raw_status == "SUSPENDED") {
    s.phase = UpstreamPhase::kRunning;
  } else if (s.raw_status == "SUCCEEDED") {
    s.phase = UpstreamPhase::kSucceeded;
  } else if (s.raw_status == "FAILED") {
    s.phase = UpstreamPhase::kFailed;
    s.error = MapError(200, Text(out, "code"), Text(out, "message"));
  } else if (s.raw_status == "CANCELED") {
    s.phase = UpstreamPhase::kCanceled;
  } else if (s.raw_status == "UNKNOWN") {
    s.phase = UpstreamPhase::kUnknown;
  } else {
    return Malformed(fmt::format("task_status '{}'", s.raw_status));
  }
  if (s.phase != UpstreamPhase::kSucceeded) return s;
  if (auto url = Text(out, "video_url"); !url.empty()) s.results.push_back({url, true});
  if (auto choices = out.find("choices"); choices != out.end() && choices->is_array()) {
    for (const auto& choice : *choices) {
      const json* content = nullptr;
      if (choice.is_object() && choice.contains("message") && choice["message"].is_object()) {
        auto it = choice["message"].find("content");
        if (it != choice["message"].end() && it->is_array()) content = &*it;
      }
      if (!content) continue;
      for (const auto& part : *content) {
        if (auto url = part.is_object() ? Text(part, "image") : std::string(); !url.empty()) {
          s.results.push_back({url, false});
        }
      }
    }
  }
  if (auto usage = j.find("usage"); usage != j.end()) s.usage_json = usage->dump();
  return s;
}

}  // namespace wanserve::providers::dashscope
