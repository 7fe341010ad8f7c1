#pragma once
// Turns provider pixels into stored files: PNG images, H.264 MP4 videos.
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
  void Discard(const std::vector<core::Output>& outputs) const;

 private:
  const media::BlobStore& blobs_;
};

}  // namespace wanserve::tasks
