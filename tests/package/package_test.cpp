// The .deb as an operator meets it: CPack builds it from this build tree; its control data and
// files are read back; it is installed (with dpkg when WANSERVE_TEST_INSTALL_PACKAGE=1 and the
// test runs as root, as CI does; otherwise unpacked into a folder); then the command of its
// systemd unit is started the way systemd starts a Type=notify service (as the unit's user, with
// NOTIFY_SOCKET) and must say READY=1, answer, generate an image through the engine modules it
// installed, and say STOPPING=1 and exit 0 on SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "net/http_client.h"
#include "testing/server_process.h"
#include "testing/temp_dir.h"

namespace wanserve {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::RunCommand;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The value of `Key=` in a unit file ("" when absent).
std::string UnitValue(const std::string& unit, const std::string& key) {
  std::istringstream lines(unit);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return "";
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// What a service manager hears on NOTIFY_SOCKET: an abstract datagram socket, so a service
// running as another user reaches it without file permissions.
class NotifySocket {
 public:
  NotifySocket() : name_("wanserve-package-test-" + std::to_string(::getpid())) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, name_.data(), name_.size());  // sun_path[0] == 0: abstract
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name_.size());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) throw std::runtime_error("notify socket");
  }
  ~NotifySocket() { ::close(fd_); }
  std::string address() const { return "@" + name_; }

  // The first message holding `field` (e.g. "READY=1") within the timeout; "" if none came.
  std::string WaitFor(const std::string& field, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) continue;
      std::string message(buf, static_cast<size_t>(n));
      heard_.push_back(message);
      if (("\n" + message + "\n").find("\n" + field + "\n") != std::string::npos) return message;
    }
    return "";
  }
  const std::vector<std::string>& heard() const { return heard_; }

 private:
  std::string name_;
  int fd_ = -1;
  std::vector<std::string> heard_;
};

class PackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* wanted = std::getenv("WANSERVE_TEST_INSTALL_PACKAGE");
    system_install_ = wanted != nullptr && std::string(wanted) == "1" && ::geteuid() == 0;
    if (system_install_ && RunCommand({"dpkg-query", "-W", "wanserve"}).exit_code == 0) {
      // Never replace an operator's installation: unpack instead.
      std::fprintf(stderr, "a wanserve package is installed already; unpacking into a folder instead\n");
      system_install_ = false;
    }
    root_ = system_install_ ? fs::path("/") : dir_.path() / "root";
    RecordProperty("installed_with", system_install_ ? "dpkg" : "dpkg-deb -x");
  }
  void TearDown() override {
    if (!installed_) return;
    RunCommand({"dpkg", "--purge", "wanserve"});
    fs::remove_all("/var/lib/wanserve");
    RunCommand({"userdel", "wanserve"});
  }

  fs::path Installed(const std::string& path) const { return root_ / fs::path(path).relative_path(); }

  // The unit's ExecStart with its paths moved under root_, behind setpriv when it runs as the
  // unit's user.
  std::vector<std::string> ServiceCommand(const std::string& unit) const {
    std::vector<std::string> argv;
    if (system_install_) {
      const std::string user = UnitValue(unit, "User");
      argv = {"setpriv", "--reuid=" + user, "--regid=" + UnitValue(unit, "Group"), "--init-groups"};
    }
    for (const auto& word : Words(UnitValue(unit, "ExecStart"))) {
      argv.push_back(word.front() == '/' ? Installed(word).string() : word);
    }
    return argv;
  }

  // As the unit's user when installed, since files the admin command makes must stay the
  // service's.
  testing::CommandResult AsServiceUser(std::vector<std::string> argv) const {
    if (system_install_) argv.insert(argv.begin(), {"setpriv", "--reuid=wanserve", "--regid=wanserve", "--init-groups"});
    return RunCommand(argv);
  }

  testing::TempDir dir_;
  bool system_install_ = false;
  bool installed_ = false;
  fs::path root_;
};

TEST_F(PackageTest, TheDebInstallsAndItsServiceStartsNotifiesReadyGeneratesAndStops) {
  // Build the package.
  const fs::path out = dir_.path() / "package";
  auto made = RunCommand({WANSERVE_CPACK, "-G", "DEB", "-B", out.string(), "--config",
                          std::string(WANSERVE_BUILD_DIR) + "/CPackConfig.cmake"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  fs::path deb;
  for (const auto& entry : fs::directory_iterator(out)) {
    if (entry.path().extension() == ".deb") deb = entry.path();
  }
  ASSERT_FALSE(deb.empty()) << made.out;

  // Its control data: dependencies computed from the binaries, the config kept as a conffile.
  const auto depends = RunCommand({"dpkg-deb", "-f", deb.string(), "Depends"}).out;
  for (const char* library : {"libtorch", "libavcodec", "libvips", "libsqlite3", "libpq5", "libsystemd0", "adduser"}) {
    EXPECT_NE(depends.find(library), std::string::npos) << library << " missing from Depends: " << depends;
  }
  const fs::path control = dir_.path() / "control";
  ASSERT_EQ(RunCommand({"dpkg-deb", "-e", deb.string(), control.string()}).exit_code, 0);
  EXPECT_EQ(ReadFile(control / "conffiles"), "/etc/wanserve/wanserve.toml\n");
  const auto listing = RunCommand({"dpkg-deb", "-c", deb.string()}).out;
  for (const char* file : {"./usr/bin/wanserve", "./usr/lib/wanserve/libwanserve_engine.so",
                           "./usr/lib/wanserve/libwanserve_tokenizer.so", "./usr/lib/systemd/system/wanserve.service",
                           "./etc/wanserve/wanserve.toml", "./usr/share/doc/wanserve/operations.md"}) {
    EXPECT_NE(listing.find(file), std::string::npos) << file << " is not in the package";
  }

  // Install it.
  if (system_install_) {
    auto installed = RunCommand({"dpkg", "-i", deb.string()});
    installed_ = installed.exit_code == 0;
    ASSERT_TRUE(installed_) << installed.out << installed.err;
    EXPECT_EQ(RunCommand({"getent", "passwd", "wanserve"}).exit_code, 0) << "postinst makes the service's user";
    struct stat config {};
    ASSERT_EQ(::stat("/etc/wanserve/wanserve.toml", &config), 0);
    EXPECT_EQ(config.st_mode & 0777, 0640u) << "the config may hold secrets";
    auto verified = RunCommand({"systemd-analyze", "verify", "/usr/lib/systemd/system/wanserve.service"});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  } else {
    ASSERT_EQ(RunCommand({"dpkg-deb", "-x", deb.string(), root_.string()}).exit_code, 0);
  }
  const fs::path unit_path = Installed("/usr/lib/systemd/system/wanserve.service");
  const std::string unit = ReadFile(unit_path);
  EXPECT_EQ(UnitValue(unit, "Type"), "notify");
  // The sandbox as systemd rates it (0 = locked down, 10 = exposed): "OK" is 3.0 at most.
  auto rated = RunCommand({"systemd-analyze", "security", "--offline=yes", "--threshold=30", unit_path.string()});
  EXPECT_EQ(rated.exit_code, 0) << rated.out << rated.err;

  auto version = RunCommand({Installed("/usr/bin/wanserve").string(), "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("wanserve ", 0), 0u) << version.out;

  // The data folder, as StateDirectory= makes it.
  const fs::path data = system_install_ ? fs::path("/var/lib/wanserve") : dir_.path() / "data";
  fs::create_directories(data);
  if (system_install_) {
    ASSERT_EQ(RunCommand({"chown", "wanserve:wanserve", data.string()}).exit_code, 0);
  }
  auto key = AsServiceUser({Installed("/usr/bin/wanserve").string(), "admin", "keys", "create", "--data", data.string(),
                            "--create", "--name", "package-test"});
  ASSERT_EQ(key.exit_code, 0) << key.err;

  // Start the unit's command as systemd would. The environment stands in for
  // /etc/wanserve/environment: any free port, and the engine's tiny preset.
  NotifySocket notify;
  const fs::path log_path = dir_.path() / "service.log";
  std::vector<std::string> env = {"NOTIFY_SOCKET=" + notify.address(), "WANSERVE_LISTEN=127.0.0.1:0",
                                  "WANSERVE_PROVIDERS_LOCAL_MODEL=tiny"};
  if (!system_install_) env.push_back("WANSERVE_DATA=" + data.string());
  std::vector<std::string> argv = {"env"};
  argv.insert(argv.end(), env.begin(), env.end());
  for (const auto& word : ServiceCommand(unit)) argv.push_back(word);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, 1);
    ::dup2(log, 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  const std::string ready = notify.WaitFor("READY=1", std::chrono::seconds(60));
  ASSERT_FALSE(ready.empty()) << "no READY=1; the service logged:\n" << ReadFile(log_path);
  const std::string marker = "listening on ";
  const auto at = ready.find(marker);
  ASSERT_NE(at, std::string::npos) << "STATUS names the address: " << ready;
  const std::string base = ready.substr(at + marker.size(), ready.find(',', at) - at - marker.size());

  auto health = net::Fetch({"GET", base + "/healthz"});
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  const std::string auth = "Authorization: Bearer " + testing::LastLine(key.out);
  auto submitted = net::Fetch({"POST", base + "/v1/images/generations", {auth, "Content-Type: application/json"},
                               R"({"model":"wan-2.7-image","prompt":"a lighthouse","size":{"width":320,"height":256}})"});
  ASSERT_TRUE(submitted.ok());
  ASSERT_EQ(submitted->status, 200) << submitted->body;
  const std::string id = json::parse(submitted->body)["id"];
  json task;
  for (int i = 0; i < 1200; ++i) {
    task = json::parse(net::Fetch({"GET", base + "/v1/tasks/" + id, {auth}})->body);
    if (task["status"] == "completed" || task["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_EQ(task["status"], "completed") << task.dump() << "\n" << ReadFile(log_path);
  auto image = net::Fetch({"GET", task["results"][0].get<std::string>()});
  ASSERT_TRUE(image.ok());
  EXPECT_EQ(image->status, 200);
  EXPECT_EQ(image->body.substr(0, 4), "\x89PNG") << "the engine modules under /usr/lib/wanserve made a picture";

  ::kill(pid, SIGTERM);
  EXPECT_FALSE(notify.WaitFor("STOPPING=1", std::chrono::seconds(30)).empty());
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(log_path);
}

}  // namespace
}  // namespace wanserve
