#pragma once
// Turns provider pixels into stored files (PNG images, H.264 MP4 videos), or keeps files an
// upstream made.
#include <string>
#include <vector>

#include "common/error.h"
#include "core/media_types.h"
#include "core/task.h"
#include "media/blob_store.h"

namespace wanserve::tasks {

class OutputWriter {
 public:
  explicit OutputWriter(const media::BlobStore& blobs) : blobs_(blobs) {}
  // On failure nothing written so far is left behind.
  Result<std::vector<core::Output>> Write(const std::string& task_id,
                                          const core::GeneratedMedia& media) const;
  // Stores finished files made elsewhere (an upstream's PNG or MP4) once they sniff and decode
  // as an image or a video; each output describes what the probe found. kUpstreamFailed
  // ("upstream_bad_output") when a file is neither.
  Result<std::vector<core::Output>> Keep(const std::string& task_id, const std::vector<std::string>& files) const;
  void Discard(const std::vector<core::Output>& outputs) const;

 private:
  const media::BlobStore& blobs_;
};

}  // namespace wanserve::tasks
