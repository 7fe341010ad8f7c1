#pragma once
// Deletes the files of tasks whose links have expired and marks their outputs expired; and,
// less often, reconciles the store with the tasks: output files no task records go.
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
  // Lists every output file and deletes those of attempts older than their task's current one,
  // those a finished task does not record (an attempt that kept writing after it lost the
  // task), and those of tasks that do not exist, once older than min_age_ms. The current
  // attempt's files of an unfinished task stay. Returns how many went.
  Result<int> ReconcileOnce(int64_t min_age_ms);

 private:
  store::TaskStore& store_;
  const media::BlobStore& blobs_;
  std::shared_ptr<Clock> clock_;
  int64_t retention_ms_;
};

}  // namespace wanserve::tasks
