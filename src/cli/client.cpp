#include "cli/client.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "cli/client_dialects.h"
#include "cli/flag_or_env.h"
#include "net/http_client.h"

namespace wanserve::cli {
namespace {

using nlohmann::json;

struct ClientArgs {
  std::string server;  // --server, else WANSERVE_SERVER, else http://127.0.0.1:8080
  std::string key;     // --key, else WANSERVE_API_KEY
  SubmitSpec spec;
  bool wait = false;
  bool json_output = false;  // print the server's JSON answers, for scripts
  std::string out = ".";
  std::string id;
  double timeout_s = 900;
  std::string file;
};

// Exit codes: 0 done, 1 refused or failed, 2 usage, 3 timed out.
int Fail(const std::string& message) {
  fmt::print(stderr, "error: {}\n", message);
  return 1;
}

// The connection after the environment's (a flag wins); nullopt, said, without a key.
std::optional<ServerConnection> Connect(const ClientArgs& a) {
  ServerConnection c{FlagOrEnv(a.server, "WANSERVE_SERVER", "http://127.0.0.1:8080"), FlagOrEnv(a.key, "WANSERVE_API_KEY")};
  if (c.key.empty()) {
    fmt::print(stderr, "error: an API key is needed: --key, or WANSERVE_API_KEY\n");
    return std::nullopt;
  }
  return c;
}

// Progress on stderr: a bar redrawn in place that fits the terminal, or, when stderr is not a
// terminal (a log, a pipe), one plain line per change.
class Progress {
 public:
  explicit Progress(std::string id) : id_(std::move(id)), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() {
    if (drawn_) fmt::print(stderr, "\n");
  }

  void Show(const TaskView& v) {
    if (!tty_) {
      if (v.state != last_state_ || v.progress != last_progress_) fmt::print(stderr, "{} {} {}%\n", id_, v.state, v.progress);
      last_state_ = v.state;
      last_progress_ = v.progress;
      return;
    }
    winsize size{};
    const int columns = ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
    const std::string tail = fmt::format(" {:3}% {}", v.progress, v.state);
    const int width = std::clamp(columns - static_cast<int>(id_.size() + tail.size()) - 4, 0, 40);
    const int filled = v.progress * width / 100;
    std::string line = width > 0 ? fmt::format("{} [{}{}]{}", id_, std::string(filled, '#'),
                                               std::string(width - filled, '.'), tail)
                                 : id_ + tail;
    if (static_cast<int>(line.size()) >= columns) line.resize(columns - 1);
    fmt::print(stderr, "\r{}\x1b[K", line);
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  std::string id_;
  bool tty_;
  bool drawn_ = false;
  std::string last_state_;
  int last_progress_ = -1;
};

// Polls until the task ends; the final view, or an error (3 when the time ran out).
Result<std::pair<json, TaskView>> WaitFor(const ServerConnection& c, const std::string& id, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  Progress progress(id);
  for (;;) {
    ASSIGN_OR_RETURN(auto read, ReadTask(c, id));
    progress.Show(read.second);
    if (read.second.done) return read;
    if (std::chrono::steady_clock::now() > deadline) {
      return MakeError(ErrorCode::kTimeout, fmt::format("timed out after {} s waiting for {}", timeout_s, id));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

int Download(const std::string& out, const std::vector<std::string>& urls) {
  std::filesystem::create_directories(out);
  for (const auto& url : urls) {
    auto res = net::Fetch({"GET", url, {}, "", 300'000});
    if (!res.ok() || res->status != 200) {
      return Fail(fmt::format("download of {} failed: {}", url, res.ok() ? fmt::format("HTTP {}", res->status)
                                                                           : res.error().message));
    }
    const auto q = url.find('?');
    const auto slash = url.rfind('/', q);
    const auto path = std::filesystem::path(out) / url.substr(slash + 1, q - slash - 1);
    std::ofstream(path, std::ios::binary) << res->body;
    fmt::print("{}\n", path.string());
  }
  return 0;
}

// The end of a wait: 0 and the outputs handled by `then`, 1 for a failed task, 3 timed out.
int Finish(const ClientArgs& a, const Result<std::pair<json, TaskView>>& waited,
           const std::function<int(const TaskView&)>& then) {
  if (!waited.ok()) {
    fmt::print(stderr, "error: {}\n", waited.error().message);
    return waited.error().code == ErrorCode::kTimeout ? 3 : 1;
  }
  if (a.json_output) fmt::print("{}\n", waited->first.dump());
  if (!waited->second.success) return Fail(fmt::format("task {} {}: {}", a.id, waited->second.state, waited->second.error));
  return then(waited->second);
}

int RunSubmit(ClientArgs a, const ServerConnection& c) {
  auto created = SubmitTask(c, a.spec);
  if (!created.ok()) return Fail(created.error().message);
  a.id = created->second;
  fmt::print("{}\n", a.json_output ? created->first.dump() : a.id);
  std::fflush(stdout);
  if (!a.wait) return 0;
  return Finish(a, WaitFor(c, a.id, a.timeout_s), [&](const TaskView& v) { return Download(a.out, v.urls); });
}

int RunStatus(const ClientArgs& a, const ServerConnection& c) {
  auto read = ReadTask(c, a.id);
  if (!read.ok()) return Fail(read.error().message);
  fmt::print("{}\n", a.json_output ? read->first.dump() : read->first.dump(2));
  return 0;
}

int RunCancel(const ClientArgs& a, const ServerConnection& c) {
  auto answer = CancelTask(c, a.id);
  if (!answer.ok()) return Fail(answer.error().message);
  if (a.json_output) {
    fmt::print("{}\n", answer->dump());
  } else {
    fmt::print("cancel of {} accepted\n", a.id);
  }
  return 0;
}

// POST /v1/files; prints the signed URL alone as the last line.
int RunUpload(const ClientArgs& a, const ServerConnection& c) {
  std::ifstream in(a.file, std::ios::binary);
  if (!in) return Fail("cannot read " + a.file);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto r = net::Fetch({"POST", c.server + "/v1/files",
                       {"Authorization: Bearer " + c.key, "Content-Type: application/octet-stream"},
                       std::move(bytes), 300'000});
  if (!r.ok()) return Fail(r.error().message);
  auto j = json::parse(r->body, nullptr, false);
  if (r->status != 200 || !j.is_object() || !j.contains("url")) {
    const bool has_error = j.is_object() && j.contains("error") && j["error"].is_object();
    return Fail(has_error ? fmt::format("{}: {} (HTTP {})", j["error"].value("code", ""), j["error"].value("message", ""),
                                        r->status)
                          : fmt::format("upload refused (HTTP {})", r->status));
  }
  if (a.json_output) {
    fmt::print("{}\n", j.dump());
    return 0;
  }
  fmt::print("uploaded {} ({} bytes, {}); link valid until {}:\n{}\n", a.file, j["bytes"].get<int64_t>(),
             j["content_type"].get<std::string>(), j["expires_at"].get<int64_t>(), j["url"].get<std::string>());
  return 0;
}

CLI::App* Command(CLI::App& app, const char* name, const char* help, ClientArgs& a) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("--server", a.server, "server base URL (default: WANSERVE_SERVER, else http://127.0.0.1:8080)");
  cmd->add_option("--key", a.key, "API key (default: WANSERVE_API_KEY)");
  cmd->add_flag("--json", a.json_output, "print the server's JSON answers, one per line");
  return cmd;
}

// Runs `run` with the connection; exit code 2 when there is none.
void OnRun(CLI::App* cmd, std::shared_ptr<ClientArgs> a, int& exit_code,
           int (*run)(const ClientArgs&, const ServerConnection&)) {
  cmd->callback([a, &exit_code, run] {
    auto c = Connect(*a);
    exit_code = c ? run(*a, *c) : 2;
  });
}

}  // namespace

void AddClientCommands(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ClientArgs>();
  auto* submit = Command(app, "submit", "Submit a task through the public API", *a);
  submit->add_option("--dialect", a->spec.dialect, "unified, skills_video, market or dashscope")->capture_default_str();
  submit->add_option("--model", a->spec.model, "model name in that dialect (e.g. wan2.7-text-to-video, wan2.7-t2v)")
      ->required();
  submit->add_option("--prompt", a->spec.prompt, "prompt")->required();
  submit->add_option("--set", a->spec.sets,
                     "extra field key=value, repeatable; dotted keys nest (parameters.duration=5), JSON values allowed");
  submit->add_flag("--wait", a->wait, "wait with progress, then download the outputs");
  submit->add_option("--out", a->out, "folder for downloads")->capture_default_str();
  submit->add_option("--timeout", a->timeout_s, "seconds to wait")->capture_default_str();
  OnRun(submit, a, exit_code, [](const ClientArgs& args, const ServerConnection& c) { return RunSubmit(args, c); });

  auto* upload = Command(app, "upload", "Upload a local file; prints a URL usable in any dialect", *a);
  upload->add_option("file", a->file, "image, video or audio file")->required();
  OnRun(upload, a, exit_code, RunUpload);

  auto* status = Command(app, "status", "Print a task as its dialect shows it (any dialect's id)", *a);
  status->add_option("id", a->id, "task id")->required();
  OnRun(status, a, exit_code, RunStatus);

  auto* cancel = Command(app, "cancel", "Cancel a queued or running task (any dialect's id)", *a);
  cancel->add_option("id", a->id, "task id")->required();
  OnRun(cancel, a, exit_code, RunCancel);

  auto* wait = Command(app, "wait", "Wait for a task with progress; print its output links (exit 1 failed, 3 timed out)",
                       *a);
  wait->add_option("id", a->id, "task id")->required();
  wait->add_option("--timeout", a->timeout_s, "seconds to wait")->capture_default_str();
  OnRun(wait, a, exit_code, [](const ClientArgs& args, const ServerConnection& c) {
    return Finish(args, WaitFor(c, args.id, args.timeout_s), [&](const TaskView& v) {
      if (!args.json_output) {
        for (const auto& url : v.urls) fmt::print("{}\n", url);
      }
      return 0;
    });
  });

  auto* download = Command(app, "download", "Download the outputs of a finished task into a folder", *a);
  download->add_option("id", a->id, "task id")->required();
  download->add_option("--out", a->out, "folder for downloads")->capture_default_str();
  OnRun(download, a, exit_code, [](const ClientArgs& args, const ServerConnection& c) {
    auto read = ReadTask(c, args.id);
    if (!read.ok()) return Fail(read.error().message);
    if (!read->second.success) {
      return Fail(fmt::format("task {} is {}{}", args.id, read->second.state,
                              read->second.error.empty() ? "" : ": " + read->second.error));
    }
    return Download(args.out, read->second.urls);
  });
}

}  // namespace wanserve::cli
