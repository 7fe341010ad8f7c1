#pragma once
// A read-through cache of tasks for the query path. Clients poll; most polls would read the
// same row again. Entries of running or queued tasks live fresh_ms (changes made by workers
// or other processes show up within that time); finished tasks change only when their links
// expire, so they live final_ms, but never past that expiry. Bounded in size, least recently
// used evicted first.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "core/task.h"

namespace wanserve::tasks {

struct TaskCacheOptions {
  int64_t fresh_ms = 0;       // Default: 0 = no caching
  int64_t final_ms = 60'000;  // Default: 60 s for finished tasks
  size_t capacity = 100'000;  // Default: 100k tasks
  // Output links expire this long after a task finishes; a finished task is not served from
  // the cache past that moment, so a query never shows links the sweeper has taken away.
  int64_t links_ttl_ms = 0;   // Default: 0 = links never expire
};

// A task as read at one moment; never changed afterwards, so whatever is derived from it (a
// rendered answer, say) stays valid as long as the snapshot is the current one.
using TaskSnapshot = std::shared_ptr<const core::Task>;

class TaskCache {
 public:
  TaskCache(std::shared_ptr<Clock> clock, TaskCacheOptions options);

  // Null when the task is not cached (or caching is off).
  TaskSnapshot Find(const std::string& id);
  void Put(TaskSnapshot task);
  void Invalidate(const std::string& id);
  bool enabled() const { return options_.fresh_ms > 0; }

 private:
  struct Entry {
    TaskSnapshot task;
    int64_t until_ms;
    std::list<std::string>::iterator lru;
  };
  std::shared_ptr<Clock> clock_;
  TaskCacheOptions options_;
  std::mutex mu_;
  std::list<std::string> lru_;  // most recent first
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace wanserve::tasks
