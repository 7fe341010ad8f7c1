#include "dashscope_sim/simulator.h"

#include <fmt/format.h>


#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <variant>

#include "common/crypto.h"
#include "common/time_format.h"
#include "media/encode.h"

namespace wanserve::testing {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

ScriptedResponse JsonAnswer(int status, json body) {
  return ScriptedResponse(status, {{"Content-Type", "application/json"}}, body.dump());
}

ScriptedResponse ErrorAnswer(int status, const std::string& code, const std::string& message) {
  return JsonAnswer(status, {{"request_id", RandomUuid()}, {"code", code}, {"message", message}});
}

// What DashScope says about a bad body: 400 InvalidParameter naming the field.
using Problem = std::optional<ScriptedResponse>;
Problem Invalid(const std::string& message) { return ErrorAnswer(400, "InvalidParameter", message); }

std::string TimeString(std::chrono::system_clock::time_point t) {
  return FormatSpacedUtc(std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

// "W*H" with positive sides; std::nullopt otherwise.
std::optional<std::pair<int, int>> ParseWxH(std::string_view s) {
  const auto star = s.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  int w = 0;
  int h = 0;
  const char* end = s.data() + s.size();
  if (std::from_chars(s.data(), s.data() + star, w).ptr != s.data() + star ||
      std::from_chars(s.data() + star + 1, end, h).ptr != end || w <= 0 || h <= 0) {
    return std::nullopt;
  }
  return std::make_pair(w, h);
}

bool IsInt(const json& v, int64_t lo, int64_t hi) {
  return v.is_number_integer() && v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
}

Problem CheckCommon(const json& p) {
  for (const char* flag : {"watermark", "prompt_extend", "thinking_mode", "enable_sequential"}) {
    if (p.contains(flag) && !p[flag].is_boolean()) return Invalid(fmt::format("parameters.{} must be a boolean", flag));
  }
  if (p.contains("seed") && !IsInt(p["seed"], 0, 2147483647)) {
    return Invalid("parameters.seed must be an integer in [0, 2147483647]");
  }
  return std::nullopt;
}

Problem CheckText(const json& input, const char* key, size_t max, bool required) {
  if (!input.contains(key)) return required ? Invalid(fmt::format("input.{} is required", key)) : Problem{};
  if (!input[key].is_string()) return Invalid(fmt::format("input.{} must be a string", key));
  const auto& s = input[key].get_ref<const std::string&>();
  if (required && s.empty()) return Invalid(fmt::format("input.{} must not be empty", key));
  if (s.size() > max) return Invalid(fmt::format("input.{} is longer than {} characters", key, max));
  return std::nullopt;
}

// The media list of wan2.7-i2v and wan2.7-r2v: {type, url} elements with http(s) URLs; the
// count of each type.
using MediaCounts = std::map<std::string, int>;
std::variant<MediaCounts, ScriptedResponse> CountMedia(const json& input, const std::set<std::string>& types,
                                                       bool voices_allowed) {
  if (!input.contains("media") || !input["media"].is_array()) return *Invalid("input.media is required");
  MediaCounts counts;
  for (const auto& m : input["media"]) {
    if (!m.is_object() || !m.contains("url") || !m["url"].is_string()) return *Invalid("input.media[].url is required");
    const std::string url = m["url"];
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return ErrorAnswer(400, "InvalidURL", "The url of input.media is not valid: " + url);
    }
    const std::string type = m.value("type", "");
    if (!types.count(type)) return *Invalid("input.media[].type is not supported: " + type);
    if (m.contains("reference_voice") && (!voices_allowed || !type.starts_with("reference_"))) {
      return *Invalid("reference_voice is only allowed on reference_image and reference_video");
    }
    ++counts[type];
  }
  return counts;
}

// wan2.7-i2v: first frame; first frame + audio; first + last frame (+ audio); a clip to
// continue (+ last frame).
Problem CheckImageToVideo(const json& input, const json& p) {
  auto counted = CountMedia(input, {"first_frame", "last_frame", "driving_audio", "first_clip"}, false);
  if (auto* answer = std::get_if<ScriptedResponse>(&counted)) return *answer;
  auto& c = std::get<MediaCounts>(counted);
  for (const auto& [type, n] : c) {
    if (n > 1) return Invalid("input.media holds at most one " + type);
  }
  const bool frame = c["first_frame"] > 0, clip = c["first_clip"] > 0;
  if (frame == clip) return Invalid("input.media needs a first_frame or a first_clip");
  if (clip && c["driving_audio"] > 0) return Invalid("driving_audio cannot be combined with first_clip");
  if (p.contains("duration") && !IsInt(p["duration"], 2, 15)) return Invalid("parameters.duration must be 2-15");
  return CheckCommon(p);
}

// wan2.7-r2v: 1-5 reference images and videos, at most one first frame.
Problem CheckReferenceToVideo(const json& input, const json& p) {
  auto counted = CountMedia(input, {"reference_image", "reference_video", "first_frame"}, true);
  if (auto* answer = std::get_if<ScriptedResponse>(&counted)) return *answer;
  auto& c = std::get<MediaCounts>(counted);
  const int references = c["reference_image"] + c["reference_video"];
  if (references < 1 || references > 5) return Invalid("input.media must hold 1-5 reference images and videos");
  if (c["first_frame"] > 1) return Invalid("input.media holds at most one first_frame");
  const int max_s = c["reference_video"] > 0 ? 10 : 15;
  if (p.contains("duration") && !IsInt(p["duration"], 2, max_s)) {
    return Invalid(fmt::format("parameters.duration must be 2-{}", max_s));
  }
  return CheckCommon(p);
}

Problem CheckVideo(const std::string& model, const json& input, const json& p) {
  if (auto bad = CheckText(input, "negative_prompt", 500, false)) return bad;
  if (model == "wan2.7-i2v" || model == "wan2.7-r2v") {
    if (auto bad = CheckText(input, "prompt", 5000, model == "wan2.7-r2v")) return bad;
    if (p.contains("resolution") && p["resolution"] != "720P" && p["resolution"] != "1080P") {
      return Invalid("parameters.resolution must be 720P or 1080P");
    }
    return model == "wan2.7-i2v" ? CheckImageToVideo(input, p) : CheckReferenceToVideo(input, p);
  }
  const bool edit = model == "wan2.7-videoedit";
  if (auto bad = CheckText(input, "prompt", 5000, !edit)) return bad;
  if (p.contains("resolution") && p["resolution"] != "720P" && p["resolution"] != "1080P") {
    return Invalid("parameters.resolution must be 720P or 1080P");
  }
  static const std::set<std::string> kRatios = {"16:9", "9:16", "1:1", "4:3", "3:4"};
  if (p.contains("ratio") && (!p["ratio"].is_string() || !kRatios.count(p["ratio"].get<std::string>()))) {
    return Invalid("parameters.ratio must be one of 16:9, 9:16, 1:1, 4:3, 3:4");
  }
  if (!edit) {
    if (p.contains("duration") && !IsInt(p["duration"], 2, 15)) return Invalid("parameters.duration must be 2-15");
    if (input.contains("media")) return Invalid("input.media is not supported by wan2.7-t2v");
    return CheckCommon(p);
  }
  if (p.contains("duration") && !(IsInt(p["duration"], 2, 10) || p["duration"] == 0)) {
    return Invalid("parameters.duration must be 0 or 2-10");
  }
  if (p.contains("audio_setting") && p["audio_setting"] != "auto" && p["audio_setting"] != "origin") {
    return Invalid("parameters.audio_setting must be auto or origin");
  }
  if (!input.contains("media") || !input["media"].is_array()) return Invalid("input.media is required");
  int videos = 0;
  int references = 0;
  for (const auto& m : input["media"]) {
    if (!m.is_object() || !m.contains("url") || !m["url"].is_string()) return Invalid("input.media[].url is required");
    const std::string url = m["url"];
    if (!url.starts_with("http://") && !url.starts_with("https://")) {
      return ErrorAnswer(400, "InvalidURL", "The url of input.media is not valid: " + url);
    }
    const std::string type = m.value("type", "");
    if (type == "video") {
      ++videos;
    } else if (type == "reference_image") {
      ++references;
    } else {
      return Invalid("input.media[].type must be video or reference_image");
    }
  }
  if (videos != 1) return Invalid("input.media must hold exactly one video");
  if (references > 4) return Invalid("input.media holds at most 4 reference images");
  return CheckCommon(p);
}

Problem CheckImage(const json& input, const json& p) {
  if (!input.contains("messages") || !input["messages"].is_array() || input["messages"].size() != 1) {
    return Invalid("input.messages must hold one message");
  }
  const json& message = input["messages"][0];
  if (!message.is_object() || message.value("role", "") != "user" || !message.contains("content") ||
      !message["content"].is_array()) {
    return Invalid("input.messages[0] must be a user message with content");
  }
  int texts = 0;
  int images = 0;
  for (const auto& part : message["content"]) {
    if (part.contains("text") && part["text"].is_string()) {
      if (part["text"].get_ref<const std::string&>().size() > 5000) return Invalid("text is longer than 5000");
      ++texts;
    } else if (part.contains("image") && part["image"].is_string()) {
      ++images;
    } else {
      return Invalid("content parts are {text} or {image}");
    }
  }
  if (texts != 1) return Invalid("content must hold one text");
  if (images > 9) return Invalid("content holds at most 9 images");
  const bool sequential = p.value("enable_sequential", false);
  if (p.contains("n") && !IsInt(p["n"], 1, sequential ? 12 : 4)) {
    return Invalid(fmt::format("parameters.n must be 1-{}", sequential ? 12 : 4));
  }
  if (p.contains("size")) {
    const std::string size = p["size"].is_string() ? p["size"].get<std::string>() : "";
    if (size != "1K" && size != "2K" && size != "4K" && !ParseWxH(size)) {
      return Invalid("parameters.size must be 1K, 2K, 4K or W*H");
    }
  }
  return CheckCommon(p);
}

// A small real file per result: PNGs at the requested size, a 2 s MP4 for videos.
std::string MakePng(int width, int height) {
  core::RgbImage img{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    img.rgb[i] = 0x20;
    img.rgb[i + 1] = 0x80;
    img.rgb[i + 2] = static_cast<uint8_t>((i / 3) % 256);
  }
  auto png = media::EncodeImage(img, media::ImageFormat::kPng);
  return png.ok() ? *png : std::string();
}

std::string MakeMp4() {
  static std::once_flag once;
  static std::string bytes;
  std::call_once(once, [] {
    core::VideoClip clip;
    clip.fps = 8;
    for (int f = 0; f < 16; ++f) {
      core::RgbImage frame{160, 96, std::vector<uint8_t>(160 * 96 * 3, static_cast<uint8_t>(f * 12))};
      clip.frames.push_back(std::move(frame));
    }
    const std::string path = fmt::format("/tmp/dashscope-sim-{}.mp4", HexEncode(RandomBytes(6)));
    if (media::EncodeMp4(clip, path).ok()) {
      std::FILE* f = std::fopen(path.c_str(), "rb");
      char buf[65536];
      for (size_t n; f && (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
      if (f) std::fclose(f);
    }
    std::remove(path.c_str());
  });
  return bytes;
}

// "W*H" for a size parameter, the tiers as DashScope renders them square.
std::string PixelSize(const json& parameters) {
  const std::string size = parameters.value("size", std::string("2K"));
  if (size == "1K") return "1024*1024";
  if (size == "2K") return "2048*2048";
  if (size == "4K") return "4096*4096";
  return size;
}

}  // namespace

DashScopeSimulator::DashScopeSimulator(SimOptions options) : options_(std::move(options)) {
  server_ = std::make_unique<LoopbackHttpServer>(
      [this](const ReceivedRequest& request, int) { return Handle(request); });
}

std::string DashScopeSimulator::BaseUrl() const { return server_->Url("/api/v1"); }

void DashScopeSimulator::SetFaults(const SimFaults& faults) {
  std::lock_guard lock(mu_);
  faults_ = faults;
}

int DashScopeSimulator::Creates() const {
  std::lock_guard lock(mu_);
  return creates_;
}

std::map<std::string, int> DashScopeSimulator::CreatesByPrompt() const {
  std::lock_guard lock(mu_);
  return creates_by_prompt_;
}

int DashScopeSimulator::Queries() const {
  std::lock_guard lock(mu_);
  return queries_;
}

int DashScopeSimulator::InFlight() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [id, t] : tasks_) n += Status(t) == "PENDING" || Status(t) == "RUNNING";
  return n;
}

json DashScopeSimulator::LastCreate() const {
  std::lock_guard lock(mu_);
  return last_create_;
}

std::string DashScopeSimulator::Status(const SimTask& t) const {
  if (t.canceled) return "CANCELED";
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t.created).count();
  if (elapsed < options_.pending_ms) return "PENDING";
  if (elapsed < options_.pending_ms + options_.running_ms) return "RUNNING";
  return t.fail_code.empty() ? "SUCCEEDED" : "FAILED";
}

ScriptedResponse DashScopeSimulator::Handle(const ReceivedRequest& request) {
  const std::string& target = request.target;
  if (request.method == "GET" && target.starts_with("/results/")) return Result(target.substr(9));
  auto auth = request.headers.find("authorization");
  if (auth == request.headers.end() || auth->second != "Bearer " + options_.api_key) {
    return ErrorAnswer(401, "InvalidApiKey", "Invalid API-key provided.");
  }
  constexpr std::string_view kTasks = "/api/v1/tasks/";
  constexpr std::string_view kCancel = "/cancel";
  if (target.starts_with(kTasks)) {
    std::string id = target.substr(kTasks.size());
    const bool cancel = id.ends_with(kCancel);
    if (cancel) id.resize(id.size() - kCancel.size());
    if (!id.empty() && id.find_first_not_of("0123456789abcdef-") == std::string::npos) {
      if (request.method == "GET" && !cancel) return Query(id);
      if (request.method == "POST" && cancel) return Cancel(id);
    }
  }
  if (request.method == "POST" && target == "/api/v1/services/aigc/video-generation/video-synthesis") {
    return Create(request, true);
  }
  if (request.method == "POST" && target == "/api/v1/services/aigc/image-generation/generation") {
    return Create(request, false);
  }
  return ErrorAnswer(404, "NotFound", "no such API: " + request.method + " " + target);
}

ScriptedResponse DashScopeSimulator::Create(const ReceivedRequest& request, bool video) {
  auto async = request.headers.find("x-dashscope-async");
  if (async == request.headers.end() || async->second != "enable") {
    return ErrorAnswer(403, "AccessDenied", "current user api does not support synchronous calls");
  }
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return *Invalid("the request body is not valid JSON");
  if (!body.contains("model") || !body["model"].is_string()) {
    return ErrorAnswer(400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request.");
  }
  const std::string model = body["model"];
  static const std::set<std::string> kVideoModels = {"wan2.7-t2v", "wan2.7-videoedit", "wan2.7-i2v", "wan2.7-r2v"};
  static const std::set<std::string> kImageModels = {"wan2.7-image", "wan2.7-image-pro"};
  if (!(video ? kVideoModels : kImageModels).count(model)) return *Invalid("Model not exist.");
  if (!body.contains("input") || !body["input"].is_object()) {
    return ErrorAnswer(400, "BadRequest.EmptyInput", "Required parameter \"input\" missing from request.");
  }
  const json parameters = body.contains("parameters") ? body["parameters"] : json::object();
  if (!parameters.is_object()) return *Invalid("parameters must be an object");
  if (auto bad = video ? CheckVideo(model, body["input"], parameters) : CheckImage(body["input"], parameters)) {
    return *bad;
  }
  std::lock_guard lock(mu_);
  if (faults_.create_throttled > 0) {
    --faults_.create_throttled;
    return ErrorAnswer(429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
  }
  if (faults_.create_server_error > 0) {
    --faults_.create_server_error;
    return ErrorAnswer(500, "InternalError", "An internal error has occured, please try again later.");
  }
  SimTask task{RandomUuid(), model, body, Clock::now(), false, faults_.fail_code};
  const std::string prompt =
      video ? body["input"].value("prompt", "") : body["input"]["messages"][0]["content"][0].value("text", "");
  ++creates_;
  ++creates_by_prompt_[prompt];
  last_create_ = body;
  tasks_[task.id] = task;
  return JsonAnswer(200, {{"request_id", RandomUuid()}, {"output", {{"task_id", task.id}, {"task_status", "PENDING"}}}});
}

ScriptedResponse DashScopeSimulator::Query(const std::string& id) {
  int delay_ms = 0;
  ScriptedResponse answer;
  {
    std::lock_guard lock(mu_);
    ++queries_;
    delay_ms = faults_.query_delay_ms;
    auto it = tasks_.find(id);
    if (faults_.query_server_error > 0) {
      --faults_.query_server_error;
      answer = ErrorAnswer(500, "InternalError", "An internal error has occured, please try again later.");
    } else if (it == tasks_.end() || faults_.forget_tasks) {
      answer = JsonAnswer(200, {{"request_id", RandomUuid()}, {"output", {{"task_id", id}, {"task_status", "UNKNOWN"}}}});
    } else {
      const SimTask& t = it->second;
      const std::string status = Status(t);
      const auto submitted = std::chrono::system_clock::now() -
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(Clock::now() - t.created);
      json out = {{"task_id", id}, {"task_status", status}, {"submit_time", TimeString(submitted)}};
      json body = {{"request_id", RandomUuid()}};
      if (status == "FAILED") {
        out["code"] = t.fail_code;
        out["message"] = t.fail_code == "DataInspectionFailed" ? "Output data may contain inappropriate content."
                                                               : "The task failed.";
      } else if (status == "SUCCEEDED") {
        out["end_time"] = TimeString(std::chrono::system_clock::now());
        const json& p = t.request.contains("parameters") ? t.request["parameters"] : json::object();
        if (t.model != "wan2.7-image" && t.model != "wan2.7-image-pro") {
          out["video_url"] = server_->Url(fmt::format("/results/{}.mp4?Expires=86400", id));
          out["orig_prompt"] = t.request["input"].value("prompt", "");
          const int seconds = p.value("duration", 5);
          body["usage"] = {{"duration", seconds}, {"input_video_duration", 0}, {"output_video_duration", seconds},
                           {"video_count", 1}, {"SR", p.value("resolution", "1080P") == "720P" ? 720 : 1080}};
          if (t.model == "wan2.7-r2v") body["usage"]["ratio"] = p.value("ratio", "16:9");
        } else {
          const int n = p.value("n", 1);
          json content = json::array();
          for (int i = 0; i < n; ++i) {
            content.push_back({{"type", "image"},
                               {"image", server_->Url(fmt::format("/results/{}_{}_{}.png?Expires=86400", id, i,
                                                                  PixelSize(p)))}});
          }
          out["finished"] = true;
          out["choices"] = json::array({{{"finish_reason", "stop"},
                                         {"message", {{"role", "assistant"}, {"content", content}}}}});
          body["usage"] = {{"image_count", n}, {"size", PixelSize(p)}};
        }
      }
      body["output"] = out;
      answer = JsonAnswer(200, body);
    }
  }
  answer.delay_ms = delay_ms;
  return answer;
}

ScriptedResponse DashScopeSimulator::Cancel(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return ErrorAnswer(404, "NotFound", "task not found");
  if (Status(it->second) != "PENDING") {
    return ErrorAnswer(400, "UnsupportedOperation", "Only a PENDING task can be canceled.");
  }
  it->second.canceled = true;
  return JsonAnswer(200, {{"request_id", RandomUuid()}});
}

ScriptedResponse DashScopeSimulator::Result(const std::string& file) {
  int delay_ms;
  {
    std::lock_guard lock(mu_);
    delay_ms = faults_.download_delay_ms;
  }
  const std::string name = file.substr(0, file.find('?'));
  std::string bytes;
  std::string type;
  // Images are named <task>_<index>_<W>*<H>.png.
  const auto size = name.ends_with(".png") && name.rfind('_') != std::string::npos
                        ? ParseWxH(std::string_view(name).substr(name.rfind('_') + 1, name.size() - name.rfind('_') - 5))
                        : std::nullopt;
  if (name.ends_with(".mp4")) {
    bytes = MakeMp4();
    type = "video/mp4";
  } else if (size) {
    bytes = MakePng(std::min(size->first, 4096), std::min(size->second, 4096));
    type = "image/png";
  } else {
    return ScriptedResponse(404, {}, "not found");
  }
  return ScriptedResponse(200, {{"Content-Type", type}}, std::move(bytes), delay_ms);
}

}  // namespace wanserve::testing
