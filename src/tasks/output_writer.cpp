#include "tasks/output_writer.h"

#include <fmt/format.h>

#include <filesystem>

#include "media/encode.h"

namespace wanserve::tasks {

Result<std::vector<core::Output>> OutputWriter::Write(const std::string& task_id,
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
    o.blob_id = blobs_.NewId("png");
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
    o.blob_id = blobs_.NewId("mp4");
    const auto scratch = blobs_.ScratchPath(o.blob_id);
    auto st = media::EncodeMp4(clip, scratch.string());
    if (!st.ok()) {
      std::error_code ec;
      std::filesystem::remove(scratch, ec);
      return fail(st.error());
    }
    auto size = blobs_.Adopt(o.blob_id, scratch);
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

void OutputWriter::Discard(const std::vector<core::Output>& outputs) const {
  for (const auto& o : outputs) (void)blobs_.Delete(o.blob_id);
}

}  // namespace wanserve::tasks
