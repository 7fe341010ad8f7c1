#include "testing/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

namespace wanserve::testing {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> out;
  for (const auto& a : args) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

std::string WanserveBinary() {
  const char* b = std::getenv("WANSERVE_BINARY");
  if (!b) throw std::runtime_error("WANSERVE_BINARY is not set (run the tests through ctest)");
  return b;
}

CommandResult RunCommand(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    auto args = Argv(argv);
    ::execvp(args[0], args.data());  // PATH lookup for tools such as ffmpeg
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult r;
  // stderr is small for our commands; read stdout first, then stderr.
  r.out = ReadAll(out_pipe[0]);
  r.err = ReadAll(err_pipe[0]);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);  // as a shell reports it
  return r;
}

std::string LastLine(std::string out) {
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out.substr(out.rfind('\n') + 1);
}

std::string CreateKey(const std::string& data_dir, const std::string& name) {
  auto r = RunCommand({WanserveBinary(), "admin", "keys", "create", "--data", data_dir, "--create", "--name", name});
  if (r.exit_code != 0) throw std::runtime_error("key create failed: " + r.err);
  return LastLine(r.out);
}

ServerProcess::ServerProcess(const std::string& data_dir, const std::vector<std::string>& extra_args,
                             const std::vector<std::string>& environment) {
  std::vector<std::string> args = {WanserveBinary(), "serve", "--data", data_dir};
  const auto given = [&](const char* flag) {
    return std::find(extra_args.begin(), extra_args.end(), flag) != extra_args.end();
  };
  if (!given("--listen")) args.insert(args.end(), {"--listen", "127.0.0.1:0"});
  if (!given("--log-level")) args.insert(args.end(), {"--log-level", "warn"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // Everything the server prints goes to the log; this run's part starts at its current end.
  log_path_ = data_dir + ".log";
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) throw std::runtime_error("cannot open " + log_path_);
  const size_t start = log().size();
  // Built before the fork: the child only calls async-signal-safe functions.
  std::vector<std::string> env = environment;
  const auto overridden = [&](std::string_view inherited) {
    for (const auto& e : environment) {
      if (inherited.substr(0, inherited.find('=') + 1) == std::string_view(e).substr(0, e.find('=') + 1)) return true;
    }
    return false;
  };
  for (char** e = environ; *e; ++e) {
    if (!overridden(*e)) env.emplace_back(*e);
  }
  auto argv = Argv(args);
  auto envp = Argv(env);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  constexpr std::string_view kMarker = "listening on ";
  std::string seen;
  while (std::chrono::steady_clock::now() < deadline) {
    seen = log().substr(start);
    auto at = seen.find(kMarker);
    if (at != std::string::npos) {
      auto end = seen.find_first_of(" \n", at + kMarker.size());
      if (end != std::string::npos) {
        base_url_ = seen.substr(at + kMarker.size(), end - at - kMarker.size());
        return;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Stop(SIGKILL);
  throw std::runtime_error("server did not start; output: " + log().substr(start));
}

int ServerProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

ServerProcess::~ServerProcess() { Stop(SIGKILL); }

std::string ServerProcess::log() const {
  std::ifstream in(log_path_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace wanserve::testing
