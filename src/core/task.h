#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "core/request.h"

namespace wanserve::core {

enum class TaskState { kQueued, kRunning, kSucceeded, kFailed, kCanceled };

std::string_view ToString(TaskState state);
std::optional<TaskState> ParseTaskState(std::string_view s);
bool IsTerminal(TaskState state);

// One produced file, stored in the blob store.
struct Output {
  std::string blob_id;
  std::string kind;          // "image" | "video"
  std::string content_type;  // "image/png", "video/mp4"
  std::string file_name;
  int width = 0;
  int height = 0;
  double duration_s = 0;
  int frames = 0;
  int64_t bytes = 0;

  bool operator==(const Output&) const = default;
};

std::string EncodeOutputs(const std::vector<Output>& outputs);
Result<std::vector<Output>> DecodeOutputs(std::string_view text);

struct Usage {
  int64_t total = 0;
  int64_t subscription = 0;
  int64_t permanent = 0;
};

struct TaskError {
  ErrorCode code = ErrorCode::kInternal;
  std::string detail_code;  // stable machine code, e.g. "lease_expired"
  std::string message;

  bool operator==(const TaskError&) const = default;
};

// Why a task ended without outputs, in the classes a client acts on; each dialect names them
// in its own words (docs/dialects.md, "Failure codes").
enum class FailureClass {
  kInputUnreachable,   // an input URL could not be downloaded: fix or re-host it
  kInputInvalid,       // an input broke a rule (format, size, duration) or the request one
  kContentRejected,    // a safety check refused the prompt or the media
  kGenerationFailed,   // the model or the provider failed: retry
  kTimeout,            // generation ran out of time: retry
  kCanceled,
  kUnavailable,        // no provider could take it now: retry later
  kRateLimited,        // the provider throttled: back off
  kInternal,
};
FailureClass ClassifyFailure(const TaskError& error);
// An image input failed to download or decode (EvoLink's image_processing_error).
bool IsImageInputFailure(const TaskError& error);

struct Task {
  std::string id;           // public id in the dialect's format; unique across dialects
  std::string dialect;      // "skills_video" | "unified" | "market"
  std::string key_id;       // owner
  std::string account_id = "acct_default";  // whose credits pay for it
  std::string model_alias;  // model name as the client sent it
  std::string client_echo;  // opaque text owned by the dialect (normalized input echo)
  GenerationRequest request;
  TaskState state = TaskState::kQueued;
  int progress = 0;
  int attempts = 0;
  bool cancel_requested = false;
  std::string lease_owner;
  int64_t lease_expires_ms = 0;
  int64_t created_ms = 0;
  int64_t started_ms = 0;
  int64_t finished_ms = 0;
  int64_t updated_ms = 0;
  std::optional<TaskError> error;
  std::vector<Output> outputs;
  bool outputs_expired = false;
  std::string provider;
  Usage usage;
};

}  // namespace wanserve::core
