#pragma once
// Server-sent events of one task, for any dialect: the task as it stands at once, then an event
// on each change of its state or progress, ending with the event of its final state. Each
// event's data is the dialect's own rendering of the task (what its query endpoint answers), so
// a client reads the events with the code that reads its polls.
#include <functional>
#include <memory>
#include <string>

#include "api/http.h"
#include "core/task.h"
#include "tasks/task_service.h"

namespace wanserve::api {

// Event names: "created" (first event of a submit's stream), "queued", "running", "progress"
// (same state, progress moved), and the final "completed", "failed" or "canceled".
std::string_view TaskEventName(core::TaskState state);

class TaskEventStream : public BodyStream {
 public:
  using Render = std::function<std::string(const core::Task&)>;
  struct Options {
    bool announce_created = false;  // the first event is "created" (a submit's stream)
    std::string poll_hint;          // where to poll instead, named in the farewell
  };

  // `first` is the task as the caller has it; it is sent as the first event.
  TaskEventStream(tasks::TaskService& tasks, tasks::TaskSnapshot first, std::string key_id, Render render,
                  Options options);

  Part Poll() override;
  std::string Heartbeat() const override;
  std::string Farewell() const override;

 private:
  std::string Event(std::string_view name, const core::Task& task);

  tasks::TaskService& tasks_;
  tasks::TaskSnapshot first_;
  std::string task_id_;
  std::string key_id_;
  Render render_;
  Options options_;
  int sequence_ = 0;
  core::TaskState state_ = core::TaskState::kQueued;
  int progress_ = -1;
};

// The response carrying such a stream, with the headers that keep proxies from buffering it.
HttpResponse EventStreamResponse(std::shared_ptr<BodyStream> stream);

}  // namespace wanserve::api
