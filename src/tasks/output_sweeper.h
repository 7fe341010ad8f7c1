#pragma once
// Deletes the files of tasks whose links have expired and marks their outputs expired.
#include <cstdint>
#include <memory>

#include "common/clock.h"
#include "common/error.h"
#include "media/blob_store.h"
#include "store/task_store.h"

namespace wanserve::tasks {

class OutputSweeper {
 public:
  OutputSweeper(store::TaskStore& store, const media::BlobStore& blobs, std::shared_ptr<Clock> clock,
                int64_t retention_ms)
      : store_(store), blobs_(blobs), clock_(std::move(clock)), retention_ms_(retention_ms) {}

  // One pass; returns the number of tasks whose outputs were removed.
  Result<int> SweepOnce();

 private:
  store::TaskStore& store_;
  const media::BlobStore& blobs_;
  std::shared_ptr<Clock> clock_;
  int64_t retention_ms_;
};

}  // namespace wanserve::tasks
