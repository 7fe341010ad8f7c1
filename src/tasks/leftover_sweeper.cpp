#include "tasks/leftover_sweeper.h"

#include "core/task.h"

namespace wanserve::tasks {

LeftoverSweeper::Swept LeftoverSweeper::SweepOnce() const {
  const auto cutoff = std::filesystem::file_time_type::clock::now() - kMinAge;
  Swept swept;
  for (const media::BlobStore* blobs : blob_stores_) swept.partial_files += blobs->DeleteStalePartials(cutoff);
  // A folder whose task is unknown (deleted, or from another data folder) is over as well.
  swept.input_folders = inputs_.SweepLeftovers(cutoff, [this](const std::string& task_id) {
    auto task = tasks_.Get(task_id);
    return !task.ok() ? task.error().code == ErrorCode::kNotFound : core::IsTerminal(task->state);
  });
  return swept;
}

}  // namespace wanserve::tasks
