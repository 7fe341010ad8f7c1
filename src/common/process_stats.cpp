#include "common/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "common/metrics.h"

namespace wanserve {
namespace {

// Seconds since the epoch at which the machine booted (/proc/stat's btime).
int64_t BootTime() {
  std::ifstream stat("/proc/stat");
  for (std::string line; std::getline(stat, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stoll(line.substr(6));
  }
  return 0;
}

}  // namespace

Result<ProcessStats> ReadProcessStats() {
  ProcessStats s;
  std::string stat;
  std::getline(std::ifstream("/proc/self/stat"), stat);
  // The command name (field 2) is in parentheses and may hold spaces; count from after it.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return MakeError(ErrorCode::kUnavailable, "/proc/self/stat cannot be read");
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // Fields 3.. of proc(5): 14 utime, 15 stime, 20 num_threads, 22 starttime, 23 vsize.
  for (int n = 3; fields >> field && n <= 23; ++n) {
    if (n == 14 || n == 15) s.cpu_seconds += std::stod(field) / ticks;
    if (n == 20) s.threads = std::stoll(field);
    if (n == 22) s.start_time_seconds = static_cast<double>(BootTime()) + std::stod(field) / ticks;
    if (n == 23) s.virtual_bytes = std::stoll(field);
  }
  {
    std::ifstream status("/proc/self/status");
    for (std::string key, unit; status >> key;) {
      int64_t kib = 0;
      if (key == "VmRSS:" && status >> kib >> unit) s.resident_bytes = kib * 1024;
      if (key == "VmHWM:" && status >> kib >> unit) s.peak_resident_bytes = kib * 1024;
      status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
  }
  // Counted with no file of this function open.
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    ++s.open_fds;
  }
  --s.open_fds;  // the iterator's own descriptor on /proc/self/fd
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) s.max_fds = static_cast<int64_t>(limit.rlim_cur);
  return s;
}

bool ResetPeakResidentMemory() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

void AddProcessMetrics(MetricsRegistry& metrics) {
  metrics.Describe("process_cpu_seconds_total", "counter", "user and system CPU time of the process");
  metrics.Describe("process_resident_memory_bytes", "gauge", "resident memory of the process");
  metrics.Describe("process_virtual_memory_bytes", "gauge", "virtual memory of the process");
  metrics.Describe("process_open_fds", "gauge", "open file descriptors (sockets included)");
  metrics.Describe("process_max_fds", "gauge", "the limit on open file descriptors");
  metrics.Describe("process_threads", "gauge", "threads of the process");
  metrics.Describe("process_start_time_seconds", "gauge", "Unix time the process started");
  metrics.AddCollector([](MetricsRegistry& m) {
    auto s = ReadProcessStats();
    if (!s.ok()) return;
    m.SetCounter("process_cpu_seconds_total", {}, s->cpu_seconds);
    m.SetGauge("process_resident_memory_bytes", {}, static_cast<double>(s->resident_bytes));
    m.SetGauge("process_virtual_memory_bytes", {}, static_cast<double>(s->virtual_bytes));
    m.SetGauge("process_open_fds", {}, static_cast<double>(s->open_fds));
    m.SetGauge("process_max_fds", {}, static_cast<double>(s->max_fds));
    m.SetGauge("process_threads", {}, static_cast<double>(s->threads));
    m.SetGauge("process_start_time_seconds", {}, s->start_time_seconds);
  });
}

}  // namespace wanserve
