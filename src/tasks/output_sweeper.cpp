#include "tasks/output_sweeper.h"

namespace wanserve::tasks {

Result<int> OutputSweeper::SweepOnce() {
  int swept = 0;
  for (;;) {
    ASSIGN_OR_RETURN(auto due, store_.ListOutputsFinishedBefore(clock_->NowMs() - retention_ms_, 100));
    if (due.empty()) return swept;
    for (const auto& task : due) {
      for (const auto& o : task.outputs) RETURN_IF_ERROR(blobs_.Delete(o.blob_id));
      RETURN_IF_ERROR(store_.MarkOutputsExpired(task.task_id));
      ++swept;
    }
  }
}

}  // namespace wanserve::tasks
