#include "core/task.h"

#include <nlohmann/json.hpp>

namespace wanserve::core {

using nlohmann::json;

std::string_view ToString(TaskState state) {
  switch (state) {
    case TaskState::kQueued: return "queued";
    case TaskState::kRunning: return "running";
    case TaskState::kSucceeded: return "succeeded";
    case TaskState::kFailed: return "failed";
    case TaskState::kCanceled: return "canceled";
  }
  return "queued";
}

std::optional<TaskState> ParseTaskState(std::string_view s) {
  for (auto st : {TaskState::kQueued, TaskState::kRunning, TaskState::kSucceeded,
                  TaskState::kFailed, TaskState::kCanceled}) {
    if (ToString(st) == s) return st;
  }
  return std::nullopt;
}

bool IsTerminal(TaskState state) {
  return state == TaskState::kSucceeded || state == TaskState::kFailed ||
         state == TaskState::kCanceled;
}

std::string EncodeOutputs(const std::vector<Output>& outputs) {
  json arr = json::array();
  for (const auto& o : outputs) {
    arr.push_back({{"blob_id", o.blob_id},
                   {"kind", o.kind},
                   {"content_type", o.content_type},
                   {"file_name", o.file_name},
                   {"width", o.width},
                   {"height", o.height},
                   {"duration_s", o.duration_s},
                   {"frames", o.frames},
                   {"bytes", o.bytes}});
  }
  return arr.dump();
}

Result<std::vector<Output>> DecodeOutputs(std::string_view text) {
  if (text.empty()) return std::vector<Output>{};
  try {
    std::vector<Output> out;
    for (const auto& j : json::parse(text)) {
      Output o;
      j.at("blob_id").get_to(o.blob_id);
      j.at("kind").get_to(o.kind);
      j.at("content_type").get_to(o.content_type);
      j.at("file_name").get_to(o.file_name);
      j.at("width").get_to(o.width);
      j.at("height").get_to(o.height);
      j.at("duration_s").get_to(o.duration_s);
      j.at("frames").get_to(o.frames);
      j.at("bytes").get_to(o.bytes);
      out.push_back(std::move(o));
    }
    return out;
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kInternal, std::string("stored outputs are corrupt: ") + e.what());
  }
}

FailureClass ClassifyFailure(const TaskError& error) {
  switch (error.code) {
    case ErrorCode::kCanceled: return FailureClass::kCanceled;
    case ErrorCode::kContentRejected: return FailureClass::kContentRejected;
    case ErrorCode::kTimeout: return FailureClass::kTimeout;
    case ErrorCode::kUpstreamFailed: return FailureClass::kGenerationFailed;
    case ErrorCode::kUnavailable: return FailureClass::kUnavailable;
    case ErrorCode::kRateLimited: return FailureClass::kRateLimited;
    case ErrorCode::kInvalidInput:
    case ErrorCode::kPayloadTooLarge:
      return error.detail_code.ends_with("_unreachable") || error.detail_code == "address_blocked"
                 ? FailureClass::kInputUnreachable
                 : FailureClass::kInputInvalid;
    default: return FailureClass::kInternal;
  }
}

bool IsImageInputFailure(const TaskError& error) {
  const std::string& d = error.detail_code;
  return d == "image_unreachable" || d == "image_corrupt" || d == "image_format_unsupported";
}

}  // namespace wanserve::core
