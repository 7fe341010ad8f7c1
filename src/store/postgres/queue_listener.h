#pragma once
// Hears the notifications a submit (or a requeue) sends at commit, on a connection of its
// own, and wakes this process's workers: the idle worker pickup takes milliseconds instead of
// a poll interval. Notifications are a hint, never the only path: a worker still polls, and
// after a lost connection the listener reconnects and wakes once for what it may have missed.
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "store/task_store.h"

namespace wanserve::store::postgres {

// The channel a transaction that queues a task notifies.
inline constexpr const char* kQueueChannel = "wanserve_queued";

class QueueListener final : public QueueWatch {
 public:
  QueueListener(std::string url, std::function<void()> wake);
  ~QueueListener() override;
  QueueListener(const QueueListener&) = delete;
  QueueListener& operator=(const QueueListener&) = delete;

 private:
  void Run();
  // Waits on the connection until a notification, a stop or a lost connection.
  void Listen(void* conn);

  std::string url_;
  std::function<void()> wake_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace wanserve::store::postgres
