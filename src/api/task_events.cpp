#include "api/task_events.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace wanserve::api {

std::string_view TaskEventName(core::TaskState state) {
  switch (state) {
    case core::TaskState::kQueued: return "queued";
    case core::TaskState::kRunning: return "running";
    case core::TaskState::kSucceeded: return "completed";
    case core::TaskState::kFailed: return "failed";
    case core::TaskState::kCanceled: return "canceled";
  }
  return "queued";
}

TaskEventStream::TaskEventStream(tasks::TaskService& tasks, tasks::TaskSnapshot first, std::string key_id,
                                 Render render, Options options)
    : tasks_(tasks), first_(std::move(first)), task_id_(first_->id), key_id_(std::move(key_id)),
      render_(std::move(render)), options_(std::move(options)) {}

std::string TaskEventStream::Event(std::string_view name, const core::Task& task) {
  state_ = task.state;
  progress_ = task.progress;
  // The data is one line of JSON, so it needs no splitting into several data: lines.
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", ++sequence_, name, render_(task));
}

BodyStream::Part TaskEventStream::Poll() {
  if (first_) {
    tasks::TaskSnapshot task = std::move(first_);
    first_.reset();
    const std::string_view name =
        options_.announce_created ? std::string_view("created") : TaskEventName(task->state);
    return {Event(name, *task), core::IsTerminal(task->state)};
  }
  auto task = tasks_.Snapshot(task_id_, key_id_);
  if (!task.ok()) {
    const nlohmann::json data = {{"id", task_id_}, {"message", task.error().message}};
    return {fmt::format("id: {}\nevent: error\ndata: {}\n\n", ++sequence_, data.dump()), true};
  }
  const core::Task& t = **task;
  if (t.state != state_) return {Event(TaskEventName(t.state), t), core::IsTerminal(t.state)};
  if (t.progress != progress_) return {Event("progress", t), false};
  return {};
}

std::string TaskEventStream::Heartbeat() const { return ": keep-alive\n\n"; }

std::string TaskEventStream::Farewell() const {
  const nlohmann::json data = {
      {"id", task_id_},
      {"message", "the server is shutting down; the task goes on" +
                      (options_.poll_hint.empty() ? std::string() : ": poll " + options_.poll_hint)}};
  return fmt::format("event: interrupted\ndata: {}\n\n", data.dump());
}

HttpResponse EventStreamResponse(std::shared_ptr<BodyStream> stream) {
  HttpResponse res;
  res.content_type = "text/event-stream";
  res.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
  res.stream = std::move(stream);
  return res;
}

}  // namespace wanserve::api
