#include "testing/s3_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "testing/node_tools.h"

namespace wanserve::testing {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

bool S3Server::Available() { return NodeToolsAvailable(); }

S3Server::S3Server(std::string bucket) : bucket_(std::move(bucket)) {
  const auto data = dir_.path() / "data";
  const auto log = dir_.path() / "server.log";
  std::filesystem::create_directories(data);
  const std::string script = NodeScript("s3_server.js");
  const std::string data_arg = data.string();
  pid_ = ::fork();
  if (pid_ == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // s3rver makes its continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
    std::vector<char*> args = {const_cast<char*>("node"), const_cast<char*>("--openssl-legacy-provider"),
                               const_cast<char*>(script.c_str()),
                               const_cast<char*>(data_arg.c_str()), bucket_.data(), nullptr};
    ::execvp("node", args.data());
    ::_exit(127);
  }
  constexpr std::string_view kMarker = "listening ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string out = ReadFile(log);
    if (auto at = out.find(kMarker); at != std::string::npos && out.find('\n', at) != std::string::npos) {
      endpoint_ = "http://127.0.0.1:" + out.substr(at + kMarker.size(), out.find('\n', at) - at - kMarker.size());
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("the S3 server did not start: " + out);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("the S3 server did not start within 30 s: " + ReadFile(log));
}

std::string S3Server::log() const { return ReadFile(dir_.path() / "server.log"); }

S3Server::~S3Server() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
}

}  // namespace wanserve::testing
