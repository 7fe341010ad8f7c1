#include "media/inputs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "media/sniff.h"

namespace wanserve::media {
namespace {

Error InputError(std::string detail, std::string message) {
  Error e = MakeError(ErrorCode::kInvalidInput, std::move(message));
  e.detail_code = std::move(detail);
  return e;
}

std::string Megabytes(int64_t bytes) {
  return bytes % (1 << 20) == 0 ? fmt::format("{} MB", bytes >> 20) : fmt::format("{} bytes", bytes);
}

// The image format the first bytes name; empty when they name none.
std::string SniffImage(const std::filesystem::path& path) {
  char head[12] = {};
  std::ifstream(path, std::ios::binary).read(head, sizeof(head));
  auto type = SniffMedia(std::string_view(head, sizeof(head)));
  return type && type->kind == "image" ? type->name : std::string();
}

}  // namespace

std::optional<Result<OwnBlob>> OwnLinks::Resolve(const std::string& url) const {
  if (base_.empty()) return std::nullopt;
  if (file_lookup_ && url.starts_with(base_ + file_prefix_)) {
    std::string id = url.substr(base_.size() + file_prefix_.size());
    if (const size_t query = id.find_first_of("?#"); query != std::string::npos) id.resize(query);
    auto blob = file_lookup_(id);
    if (!blob.ok()) {
      return Result<OwnBlob>(MakeError(ErrorCode::kNotFound, "the uploaded file expired or was deleted"));
    }
    return Find(*blob);
  }
  if (!url.starts_with(base_ + "/files/")) return std::nullopt;
  auto blob = signer_.VerifyPath(std::string_view(url).substr(base_.size()), clock_->NowMs() / 1000);
  if (!blob.ok()) {
    Error e = blob.error();
    e.detail_code = "link_invalid";
    return Result<OwnBlob>(e);
  }
  return Find(*blob);
}

Result<OwnBlob> OwnLinks::Find(const std::string& blob_id) const {
  for (const BlobStore* store : stores_) {
    auto info = store->Stat(blob_id);
    if (info.ok()) return OwnBlob{store, blob_id, info->bytes};
  }
  return MakeError(ErrorCode::kNotFound, "the linked file no longer exists");
}

InputFetcher::InputFetcher(net::OutboundClient& client, const OwnLinks& own, std::filesystem::path scratch_root,
                           InputLimits limits)
    : client_(client), own_(own), scratch_root_(std::move(scratch_root)), limits_(limits) {}

Result<InputFile> InputFetcher::Fetch(const std::string& url, std::string_view kind, const std::string& label,
                                      int64_t max_bytes, const std::filesystem::path& dest) const {
  InputFile file{label, dest, {}};
  const std::string unreachable = std::string(kind) + "_unreachable";
  if (auto own = own_.Resolve(url)) {
    if (!own->ok()) return InputError(unreachable, fmt::format("{}: {}", label, own->error().message));
    const OwnBlob& blob = own->value();
    if (blob.bytes > max_bytes) {
      return InputError("input_too_large", fmt::format("{} is larger than {}", label, Megabytes(max_bytes)));
    }
    if (auto local = blob.store->LocalFile(blob.key)) {
      file.path = *local;  // probed where it lies; Cleanup only touches the scratch folder
      return file;
    }
    if (auto copied = CopyToFile(*blob.store, blob.key, dest); !copied.ok()) {
      return InputError(unreachable, fmt::format("{}: {}", label, copied.error().message));
    }
    return file;
  }
  net::OutboundRequest request;
  request.url = url;
  request.max_body_bytes = max_bytes;
  request.connect_timeout_ms = limits_.connect_timeout_ms;
  request.timeout_ms = limits_.timeout_ms;
  auto response = client_.Send(request);
  if (!response.ok()) {
    const Error& e = response.error();
    if (e.detail_code == "too_large") {
      return InputError("input_too_large", fmt::format("{} is larger than {}", label, Megabytes(max_bytes)));
    }
    if (e.detail_code == "address_blocked") return InputError("address_blocked", fmt::format("{}: {}", label, e.message));
    return InputError(unreachable, fmt::format("{} could not be downloaded: {}", label, e.message));
  }
  if (response->status < 200 || response->status >= 300) {
    return InputError(unreachable, fmt::format("{} could not be downloaded: {} answered HTTP {}", label,
                                                       response->url, response->status));
  }
  std::ofstream out(dest, std::ios::binary);
  out.write(response->body.data(), static_cast<std::streamsize>(response->body.size()));
  if (!out) return MakeError(ErrorCode::kInternal, fmt::format("{}: cannot write {}", label, dest.string()));
  return file;
}

Status InputFetcher::CheckImage(InputFile& file, int min_side) const {
  const std::string format = SniffImage(file.path);
  if (format.empty() || format == "GIF") {
    return InputError("image_format_unsupported",
                      fmt::format("{} is {}; JPEG, PNG, BMP or WebP is required", file.label,
                                  format.empty() ? "not an image" : format));
  }
  auto info = ProbeImageFile(file.path.string());
  if (!info.ok()) return InputError("image_corrupt", fmt::format("{} ({}) {}", file.label, format, info.error().message));
  file.info = *info;
  const int w = info->width, h = info->height;
  if (std::min(w, h) < min_side) {
    return InputError("image_too_small",
                      fmt::format("{} is {}x{}, minimum {}x{}", file.label, w, h, min_side, min_side));
  }
  if (std::max(w, h) > limits_.image_max_side) {
    return InputError("image_too_large",
                      fmt::format("{} is {}x{}, at most {} px per side", file.label, w, h, limits_.image_max_side));
  }
  return Status::Ok();
}

Status InputFetcher::CheckVideo(InputFile& file, double min_s, double max_s) const {
  auto info = ProbeVideoFile(file.path.string());
  if (!info.ok()) return InputError("video_corrupt", fmt::format("{}: {}", file.label, info.error().message));
  file.info = *info;
  if (info->container.find("mp4") == std::string::npos && info->container.find("mov") == std::string::npos) {
    return InputError("video_format_unsupported",
                      fmt::format("{} is {}; MP4 or MOV is required", file.label, info->container));
  }
  if (info->frames == 0 || info->width == 0) {
    return InputError("video_corrupt", fmt::format("{} has no video stream", file.label));
  }
  if (info->duration_s < min_s - 0.05 || info->duration_s > max_s + 0.05) {
    return InputError(info->duration_s < min_s ? "video_too_short" : "video_too_long",
                      fmt::format("{} is {:.1f} s; {}-{} s is required", file.label, info->duration_s, min_s, max_s));
  }
  const int w = info->width, h = info->height;
  if (std::min(w, h) < limits_.video_min_side || std::max(w, h) > limits_.video_max_side) {
    return InputError(std::min(w, h) < limits_.video_min_side ? "video_too_small" : "video_too_large",
                      fmt::format("{} is {}x{}; sides of {}-{} px are required", file.label, w, h,
                                  limits_.video_min_side, limits_.video_max_side));
  }
  const double ratio = static_cast<double>(std::max(w, h)) / std::min(w, h);
  if (ratio > limits_.video_max_ratio) {
    return InputError("video_aspect_ratio",
                      fmt::format("{} is {}x{}; an aspect ratio between 1:8 and 8:1 is required", file.label, w, h));
  }
  return Status::Ok();
}

Status InputFetcher::CheckAudio(InputFile& file, double min_s, double max_s) const {
  auto info = ProbeVideoFile(file.path.string());
  if (!info.ok()) return InputError("audio_corrupt", fmt::format("{}: {}", file.label, info.error().message));
  file.info = *info;
  if (info->container != "wav" && info->container != "mp3") {
    return InputError("audio_format_unsupported", fmt::format("{} is {}; WAV or MP3 is required", file.label, info->container));
  }
  if (!info->has_audio) return InputError("audio_corrupt", fmt::format("{} has no audio stream", file.label));
  if (info->duration_s < min_s - 0.05 || info->duration_s > max_s + 0.05) {
    return InputError(info->duration_s < min_s ? "audio_too_short" : "audio_too_long",
                      fmt::format("{} is {:.1f} s; {}-{} s is required", file.label, info->duration_s, min_s, max_s));
  }
  return Status::Ok();
}

Result<PreparedInputs> InputFetcher::Prepare(const std::string& task_id, const core::GenerationRequest& r) const {
  PreparedInputs out;
  if (r.image_urls.empty() && r.video_url.empty() && r.audio_urls.empty() && r.first_frame_url.empty() &&
      r.last_frame_url.empty() && r.reference_video_urls.empty() && r.voice_bindings.empty()) {
    return out;
  }
  const auto dir = scratch_root_ / task_id;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError(ErrorCode::kInternal, "cannot create " + dir.string() + ": " + ec.message());
  const int min_side = r.min_image_side > 0 ? r.min_image_side : limits_.image_min_side;
  const auto image = [&](const std::string& url, const std::string& label, const std::string& file) -> Result<InputFile> {
    ASSIGN_OR_RETURN(InputFile picture, Fetch(url, "image", label, limits_.max_image_bytes, dir / file));
    RETURN_IF_ERROR(CheckImage(picture, min_side));
    return picture;
  };
  const auto video = [&](const std::string& url, const std::string& label, const std::string& file, double min_s,
                         double max_s) -> Result<InputFile> {
    ASSIGN_OR_RETURN(InputFile clip, Fetch(url, "video", label, limits_.max_video_bytes, dir / file));
    RETURN_IF_ERROR(CheckVideo(clip, min_s, max_s));
    return clip;
  };
  const auto audio = [&](const std::string& url, const std::string& label, const std::string& file, double min_s,
                         double max_s) -> Result<InputFile> {
    ASSIGN_OR_RETURN(InputFile sound, Fetch(url, "audio", label, limits_.max_audio_bytes, dir / file));
    RETURN_IF_ERROR(CheckAudio(sound, min_s, max_s));
    return sound;
  };
  if (!r.video_url.empty()) {
    ASSIGN_OR_RETURN(out.video, video(r.video_url, "video", "video", limits_.video_min_s, limits_.video_max_s));
  }
  for (size_t i = 0; i < r.image_urls.size(); ++i) {
    ASSIGN_OR_RETURN(InputFile picture, image(r.image_urls[i], fmt::format("image {}", i + 1), fmt::format("image-{}", i + 1)));
    out.images.push_back(std::move(picture));
  }
  if (!r.first_frame_url.empty()) {
    ASSIGN_OR_RETURN(out.first_frame, image(r.first_frame_url, "first frame", "first-frame"));
  }
  if (!r.last_frame_url.empty()) {
    ASSIGN_OR_RETURN(out.last_frame, image(r.last_frame_url, "last frame", "last-frame"));
  }
  for (size_t i = 0; i < r.reference_video_urls.size(); ++i) {
    ASSIGN_OR_RETURN(InputFile clip, video(r.reference_video_urls[i], fmt::format("reference video {}", i + 1),
                                           fmt::format("reference-video-{}", i + 1), limits_.reference_video_min_s,
                                           limits_.reference_video_max_s));
    out.reference_videos.push_back(std::move(clip));
  }
  for (size_t i = 0; i < r.audio_urls.size(); ++i) {
    const std::string label = r.audio_urls.size() == 1 ? "audio" : fmt::format("audio {}", i + 1);
    ASSIGN_OR_RETURN(InputFile sound, audio(r.audio_urls[i], label, fmt::format("audio-{}", i + 1), limits_.audio_min_s,
                                            limits_.audio_max_s));
    out.audio.push_back(std::move(sound));
  }
  for (size_t i = 0; i < r.voice_bindings.size(); ++i) {
    const auto& [target, url] = r.voice_bindings[i];
    ASSIGN_OR_RETURN(InputFile sound, audio(url, "voice of " + target, fmt::format("voice-{}", i + 1),
                                            limits_.voice_min_s, limits_.voice_max_s));
    out.voices.push_back(std::move(sound));
  }
  return out;
}

void InputFetcher::Cleanup(const std::string& task_id) const {
  std::error_code ec;
  std::filesystem::remove_all(scratch_root_ / task_id, ec);
  if (ec) spdlog::warn("task={} input files not removed: {}", task_id, ec.message());
}

int InputFetcher::SweepLeftovers(std::filesystem::file_time_type cutoff,
                                  const std::function<bool(const std::string& task_id)>& finished) const {
  int removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(scratch_root_, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code fec;
    if (!it->is_directory(fec) || it->last_write_time(fec) >= cutoff || fec) continue;
    if (!finished(it->path().filename().string())) continue;
    if (std::filesystem::remove_all(it->path(), fec) > 0 && !fec) ++removed;
  }
  return removed;
}

core::GenerationRequest ApplyInputs(core::GenerationRequest r, const PreparedInputs& inputs, double max_seconds) {
  if (!inputs.video) return r;
  const MediaInfo& v = inputs.video->info;
  if (r.duration_s <= 0) r.duration_s = std::min(max_seconds, std::floor(v.duration_s));
  if (r.aspect_ratio.empty() && v.width > 0 && v.height > 0 && r.width > 0 && r.height > 0) {
    // Same pixel count as the tier's default size, in the input's ratio, on a 16-pixel grid.
    const double area = static_cast<double>(r.width) * r.height;
    const double ratio = static_cast<double>(v.width) / v.height;
    auto grid = [](double x) { return std::max(16, static_cast<int>(std::lround(x / 16.0)) * 16); };
    r.width = grid(std::sqrt(area * ratio));
    r.height = grid(std::sqrt(area / ratio));
  }
  return r;
}

}  // namespace wanserve::media
