#include "tasks/upload_sweeper.h"

#include <chrono>
#include <filesystem>

namespace wanserve::tasks {

Result<int> UploadSweeper::SweepOnce() {
  int swept = 0;
  for (;;) {
    ASSIGN_OR_RETURN(auto due, files_.TakeExpiredFiles(clock_->NowMs(), 200));
    if (due.empty()) break;
    for (const auto& file : due) {
      RETURN_IF_ERROR(uploads_.Delete(file.blob_id));
      ++swept;
    }
  }
  const auto orphan_cutoff =
      std::filesystem::file_time_type::clock::now() - std::chrono::milliseconds(orphan_age_ms_);
  return swept + uploads_.DeleteOlderThan(orphan_cutoff);
}

}  // namespace wanserve::tasks
