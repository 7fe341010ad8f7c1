#pragma once
// Removes what a crash mid-write or mid-task left in the data folder: half-written blob files
// (tmp/*.part) and the input folders of tasks that are over. Only things older than any write
// or running task could still be using go.
#include <chrono>
#include <vector>

#include "media/blob_store.h"
#include "media/inputs.h"
#include "store/task_store.h"

namespace wanserve::tasks {

class LeftoverSweeper {
 public:
  static constexpr std::chrono::hours kMinAge{6};

  LeftoverSweeper(std::vector<const media::BlobStore*> blob_stores, const media::InputFetcher& inputs,
                  store::TaskStore& tasks)
      : blob_stores_(std::move(blob_stores)), inputs_(inputs), tasks_(tasks) {}

  struct Swept {
    int partial_files = 0;
    int input_folders = 0;
  };
  // One pass over files last written before now - kMinAge.
  Swept SweepOnce() const;

 private:
  std::vector<const media::BlobStore*> blob_stores_;
  const media::InputFetcher& inputs_;
  store::TaskStore& tasks_;
};

}  // namespace wanserve::tasks
