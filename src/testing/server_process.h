#pragma once
// Runs the real wanserve binary as a child process for black-box tests.
#include <sys/types.h>

#include <string>
#include <vector>

namespace wanserve::testing {

// Path of the built binary (WANSERVE_BINARY, set by ctest).
std::string WanserveBinary();

struct CommandResult {
  int exit_code = -1;  // 128 + the signal when one ended it
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a command to completion, capturing its output; a bare name is looked up in PATH.
CommandResult RunCommand(const std::vector<std::string>& argv);

// The last non-empty line of a command's output (what `admin ... create` prints for scripts).
std::string LastLine(std::string out);

// Creates an API key in the data folder through `wanserve admin keys create`.
std::string CreateKey(const std::string& data_dir, const std::string& name = "test");

class ServerProcess {
 public:
  // Starts `wanserve serve --listen 127.0.0.1:0 --log-level warn --data DIR <extra>` (extra may
  // name another --listen or --log-level) and waits for its
  // "listening on" line. What it prints goes to DIR.log, kept across restarts. `environment`
  // ("NAME=value") is added to the inherited one, e.g. to preload a library.
  ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra_args = {},
                const std::vector<std::string>& environment = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& base_url() const { return base_url_; }
  // What the server logged so far (at warn and above), this run and earlier ones.
  std::string log() const;
  pid_t pid() const { return pid_; }
  // Sends a signal and waits for exit; returns the exit status as waitpid reports it.
  int Stop(int signal);

 private:
  pid_t pid_ = -1;
  std::string base_url_;
  std::string log_path_;
};

}  // namespace wanserve::testing
