#pragma once
// Turns provider pixels into stored files (PNG images, H.264 MP4 videos), or keeps files an
// upstream made. Every file is stored under a key of the task's attempt, so what an attempt
// that lost its task wrote can be told apart and swept.
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
  Result<std::vector<core::Output>> Write(const std::string& task_id, int attempt,
                                          const core::GeneratedMedia& media) const;
  // Stores finished files made elsewhere (an upstream's PNG or MP4) once they sniff and decode
  // as an image or a video; each output describes what the probe found. kUpstreamFailed
  // ("upstream_bad_output") when a file is neither.
  Result<std::vector<core::Output>> Keep(const std::string& task_id, int attempt,
                                         const std::vector<std::string>& files) const;
  void Discard(const std::vector<core::Output>& outputs) const;
  // Once a task is over: deletes the files of its other attempts (those not among kept), which
  // lost the task to a crash or a lost lease. Returns how many.
  Result<int> DiscardOthers(const std::string& task_id, const std::vector<core::Output>& kept) const;

 private:
  const media::BlobStore& blobs_;
};

}  // namespace wanserve::tasks
