#include "tasks/output_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "media/encode.h"
#include "media/probe.h"
#include "media/sniff.h"

namespace wanserve::tasks {

Result<std::vector<core::Output>> OutputWriter::Write(const std::string& task_id, int attempt,
                                                      const core::GeneratedMedia& media) const {
  std::vector<core::Output> outputs;
  auto fail = [&](Error e) -> Result<std::vector<core::Output>> {
    Discard(outputs);
    return e;
  };
  for (size_t i = 0; i < media.images.size(); ++i) {
    const auto& img = media.images[i];
    auto png = media::EncodeImage(img, media::ImageFormat::kPng);
    if (!png.ok()) return fail(png.error());
    core::Output o;
    o.blob_id = media::BlobStore::NewOutputKey(task_id, attempt, i, "png");
    auto size = blobs_.Write(o.blob_id, *png);
    if (!size.ok()) return fail(size.error());
    o.kind = "image";
    o.content_type = "image/png";
    o.file_name = fmt::format("{}_{}.png", task_id, i);
    o.width = img.width;
    o.height = img.height;
    o.frames = 1;
    o.bytes = *size;
    outputs.push_back(o);
  }
  for (size_t i = 0; i < media.videos.size(); ++i) {
    const auto& clip = media.videos[i];
    core::Output o;
    o.blob_id = media::BlobStore::NewOutputKey(task_id, attempt, media.images.size() + i, "mp4");
    const auto scratch = blobs_.ScratchPath(o.blob_id);
    auto st = media::EncodeMp4(clip, scratch.string());
    if (!st.ok()) {
      std::error_code ec;
      std::filesystem::remove(scratch, ec);
      return fail(st.error());
    }
    auto size = blobs_.Put(o.blob_id, scratch);
    if (!size.ok()) return fail(size.error());
    o.kind = "video";
    o.content_type = "video/mp4";
    o.file_name = fmt::format("{}_{}.mp4", task_id, i);
    o.width = clip.frames.front().width;
    o.height = clip.frames.front().height;
    o.frames = static_cast<int>(clip.frames.size());
    o.duration_s = static_cast<double>(clip.frames.size()) / clip.fps;
    o.bytes = *size;
    outputs.push_back(o);
  }
  return outputs;
}

Result<std::vector<core::Output>> OutputWriter::Keep(const std::string& task_id, int attempt,
                                                     const std::vector<std::string>& files) const {
  std::vector<core::Output> outputs;
  auto fail = [&](std::string message) -> Result<std::vector<core::Output>> {
    Discard(outputs);
    Error e = MakeError(ErrorCode::kUpstreamFailed, std::move(message));
    e.detail_code = "upstream_bad_output";
    return e;
  };
  for (size_t i = 0; i < files.size(); ++i) {
    auto type = media::SniffMedia(files[i]);
    if (!type || (type->kind != "image" && type->kind != "video")) {
      return fail(fmt::format("result {} is not an image or a video", i + 1));
    }
    core::Output o;
    o.blob_id = media::BlobStore::NewOutputKey(task_id, attempt, i, type->extension);
    // Probed in scratch, before it is stored: what does not decode is never stored.
    const auto scratch = blobs_.ScratchPath(o.blob_id);
    {
      std::ofstream f(scratch, std::ios::binary | std::ios::trunc);
      f.write(files[i].data(), static_cast<std::streamsize>(files[i].size()));
      if (!f) return fail("cannot write " + scratch.string());
    }
    auto info = type->kind == "image" ? media::ProbeImageFile(scratch.string()) : media::ProbeVideoFile(scratch.string());
    if (!info.ok()) {
      std::error_code ec;
      std::filesystem::remove(scratch, ec);
      return fail(fmt::format("result {} does not decode: {}", i + 1, info.error().message));
    }
    auto size = blobs_.Put(o.blob_id, scratch);
    if (!size.ok()) return fail(size.error().message);
    o.kind = type->kind;
    o.content_type = media::BlobStore::ContentTypeFor(o.blob_id);
    o.file_name = fmt::format("{}_{}.{}", task_id, i, type->extension);
    o.width = info->width;
    o.height = info->height;
    o.frames = info->frames;
    o.duration_s = info->duration_s;
    o.bytes = *size;
    outputs.push_back(o);
  }
  return outputs;
}

void OutputWriter::Discard(const std::vector<core::Output>& outputs) const {
  for (const auto& o : outputs) (void)blobs_.Delete(o.blob_id);
}

Result<int> OutputWriter::DiscardOthers(const std::string& task_id, const std::vector<core::Output>& kept) const {
  int deleted = 0;
  std::string after;
  const std::string prefix = media::BlobStore::TaskPrefix(task_id);
  for (;;) {
    ASSIGN_OR_RETURN(auto page, blobs_.List(prefix, after, 1000));
    if (page.empty()) return deleted;
    for (const auto& blob : page) {
      const bool is_kept =
          std::any_of(kept.begin(), kept.end(), [&](const core::Output& o) { return o.blob_id == blob.key; });
      if (is_kept) continue;
      RETURN_IF_ERROR(blobs_.Delete(blob.key));
      ++deleted;
    }
    after = page.back().key;
  }
}

}  // namespace wanserve::tasks
