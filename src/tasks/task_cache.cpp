#include "tasks/task_cache.h"

#include <algorithm>

namespace wanserve::tasks {

TaskCache::TaskCache(std::shared_ptr<Clock> clock, TaskCacheOptions options)
    : clock_(std::move(clock)), options_(options) {}

TaskSnapshot TaskCache::Find(const std::string& id) {
  if (!enabled()) return nullptr;
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return nullptr;
  if (it->second.until_ms <= clock_->NowMs()) {
    lru_.erase(it->second.lru);
    entries_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.task;
}

void TaskCache::Put(TaskSnapshot task) {
  if (!enabled()) return;
  const int64_t now = clock_->NowMs();
  const bool terminal = core::IsTerminal(task->state);
  int64_t until = now + (terminal ? options_.final_ms : options_.fresh_ms);
  if (terminal && !task->outputs_expired && options_.links_ttl_ms > 0 && task->finished_ms > 0) {
    until = std::min(until, task->finished_ms + options_.links_ttl_ms);
  }
  std::lock_guard lock(mu_);
  auto it = entries_.find(task->id);
  if (until <= now) {
    // Its links have lapsed: read it from the store until the sweeper has marked them.
    if (it != entries_.end()) {
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
    return;
  }
  if (it != entries_.end()) {
    it->second.task = std::move(task);
    it->second.until_ms = until;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  lru_.push_front(task->id);
  entries_.emplace(lru_.front(), Entry{std::move(task), until, lru_.begin()});
  while (entries_.size() > options_.capacity) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

void TaskCache::Invalidate(const std::string& id) {
  if (!enabled()) return;
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

}  // namespace wanserve::tasks
