#pragma once
// The client commands' view of the four dialects: how each creates, reads and cancels a task,
// and how each says why it refused, so the commands print one readable line in every dialect.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/error.h"

namespace wanserve::cli {

struct ServerConnection {
  std::string server;  // base URL
  std::string key;     // API key
};

// What a read of one task tells, whatever the dialect.
struct TaskView {
  std::string state;  // the dialect's own status text ("completed", "SUCCEEDED", "success", …)
  int progress = 0;
  bool done = false;
  bool success = false;
  std::vector<std::string> urls;
  std::string error;  // "code: message" of a failed task
};

// The dialect a task id belongs to: gen_… skills_video, task-unified-… unified, task_wan_…
// market, a UUID dashscope; empty for anything else.
std::string DialectOfTaskId(const std::string& id);

struct SubmitSpec {
  std::string dialect = "unified";  // unified, skills_video, market, dashscope
  std::string model = {};            // the dialect's model name
  std::string prompt = {};
  // key=value; a dotted key sets a nested field ("parameters.duration=5"), a value that parses
  // as JSON is sent as that JSON.
  std::vector<std::string> sets = {};
};

// Creates the task; returns the creation answer and the task id. A refusal is an error whose
// message is "<code>: <message> (HTTP <status>)" in the dialect's own words.
Result<std::pair<nlohmann::json, std::string>> SubmitTask(const ServerConnection& c, const SubmitSpec& spec);
// Reads the task as its dialect shows it.
Result<std::pair<nlohmann::json, TaskView>> ReadTask(const ServerConnection& c, const std::string& id);
// Asks the server to cancel the task; returns its answer.
Result<nlohmann::json> CancelTask(const ServerConnection& c, const std::string& id);

}  // namespace wanserve::cli
