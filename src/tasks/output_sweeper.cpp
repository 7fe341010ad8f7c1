#include "tasks/output_sweeper.h"

#include <algorithm>
#include <optional>

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

Result<int> OutputSweeper::ReconcileOnce(int64_t min_age_ms) {
  const int64_t cutoff_ms = media::BlobClockNowMs() - min_age_ms;
  int deleted = 0;
  std::string after;
  std::string task_id;             // the task of the files just seen (keys sort by task)
  std::optional<core::Task> task;  // nullopt when it does not exist
  for (;;) {
    ASSIGN_OR_RETURN(auto page, blobs_.List("", after, 1000));
    if (page.empty()) return deleted;
    for (const auto& blob : page) {
      const auto key = media::BlobStore::ParseOutputKey(blob.key);
      if (!key) continue;
      if (key->task_id != task_id) {
        task_id = key->task_id;
        auto found = store_.Get(task_id);
        if (!found.ok() && found.error().code != ErrorCode::kNotFound) return found.error();
        task = found.ok() ? std::optional(std::move(*found)) : std::nullopt;
      }
      bool orphan = false;
      if (!task) {
        orphan = blob.modified_ms < cutoff_ms;
      } else if (core::IsTerminal(task->state)) {
        orphan = task->outputs_expired || std::none_of(task->outputs.begin(), task->outputs.end(),
                                                       [&](const core::Output& o) { return o.blob_id == blob.key; });
      } else {
        orphan = key->attempt < task->attempts;
      }
      if (!orphan) continue;
      RETURN_IF_ERROR(blobs_.Delete(blob.key));
      ++deleted;
    }
    after = page.back().key;
  }
}

}  // namespace wanserve::tasks
