#include "tasks/upload_sweeper.h"

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
  ASSIGN_OR_RETURN(int orphans, media::DeleteOlderThan(uploads_, media::BlobClockNowMs() - orphan_age_ms_));
  return swept + orphans;
}

}  // namespace wanserve::tasks
