#include "api/rendered_tasks.h"

namespace wanserve::api {

namespace {

// Same control block: the same snapshot. A weak_ptr keeps its control block alive, so the
// block cannot be reused by a later snapshot while the entry exists.
bool SameSnapshot(const std::weak_ptr<const core::Task>& a, const tasks::TaskSnapshot& b) {
  return !a.owner_before(b) && !b.owner_before(a);
}

}  // namespace

std::string RenderedTasks::Body(std::string_view view, const tasks::TaskSnapshot& task,
                                const std::function<std::string(const core::Task&)>& render) {
  std::string key;
  key.reserve(view.size() + 1 + task->id.size());
  key.append(view).append(1, '/').append(task->id);
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && SameSnapshot(it->second.of, task)) return it->second.body;
  }
  std::string body = render(*task);
  std::lock_guard lock(mu_);
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [](const auto& e) { return e.second.of.expired(); });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_[std::move(key)] = Entry{task, body};
  return body;
}

}  // namespace wanserve::api
