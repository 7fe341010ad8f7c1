#pragma once
// Query answers rendered once per task snapshot. Clients poll, and between two changes of a
// task every poll would build the same JSON again: building it was the largest cost of a
// status query in our own code. A snapshot never changes, so an answer rendered from it is
// valid for exactly as long as the task cache hands out that snapshot.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tasks/task_cache.h"

namespace wanserve::api {

class RenderedTasks {
 public:
  RenderedTasks() = default;
  explicit RenderedTasks(size_t capacity) : capacity_(capacity) {}

  // The body `render` makes from `task` for `view` (one per dialect's answer shape); `render`
  // runs only the first time this snapshot is asked for in this view.
  std::string Body(std::string_view view, const tasks::TaskSnapshot& task,
                   const std::function<std::string(const core::Task&)>& render);

 private:
  struct Entry {
    std::weak_ptr<const core::Task> of;  // keeps the snapshot's identity, not the snapshot
    std::string body;
  };
  size_t capacity_ = 20'000;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // by view and task id
};

}  // namespace wanserve::api
