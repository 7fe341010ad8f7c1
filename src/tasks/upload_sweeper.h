#pragma once
// Deletes uploaded files once they expire: first those the file records say are due, then
// any blob in the upload folder older than the longest retention any upload API grants (a
// file whose record was never written, e.g. a crash between the write and the insert).
#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/error.h"
#include "media/blob_store.h"
#include "store/file_store.h"

namespace wanserve::tasks {

class UploadSweeper {
 public:
  // orphan_age_ms: blobs older than this go even without an expired record.
  UploadSweeper(store::FileStore& files, const media::BlobStore& uploads, std::shared_ptr<Clock> clock,
                int64_t orphan_age_ms)
      : files_(files), uploads_(uploads), clock_(std::move(clock)), orphan_age_ms_(orphan_age_ms) {}

  // One pass; returns the number of files removed.
  Result<int> SweepOnce();

 private:
  store::FileStore& files_;
  const media::BlobStore& uploads_;
  std::shared_ptr<Clock> clock_;
  int64_t orphan_age_ms_;
};

}  // namespace wanserve::tasks
