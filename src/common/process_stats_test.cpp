#include "common/process_stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "common/metrics.h"

namespace wanserve {
namespace {

ProcessStats Read() {
  auto s = ReadProcessStats();
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? *s : ProcessStats{};
}

TEST(ProcessStats, DescriptorsThreadsAndTimeFollowWhatTheProcessDoes) {
  const ProcessStats before = Read();
  const int fd = ::open("/proc/self/status", O_RDONLY);
  ASSERT_GE(fd, 0);
  std::atomic<bool> stop = false;
  std::thread spinner([&] {
    while (!stop) {
    }
  });
  // Busy until the kernel has counted 0.2 s of CPU (a loaded machine takes longer to get there).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  ProcessStats during = Read();
  while (during.cpu_seconds - before.cpu_seconds < 0.2 && std::chrono::steady_clock::now() < deadline) {
    during = Read();
  }
  stop = true;
  spinner.join();
  ::close(fd);

  EXPECT_EQ(during.open_fds, before.open_fds + 1);
  EXPECT_EQ(during.threads, before.threads + 1);
  EXPECT_GE(during.cpu_seconds - before.cpu_seconds, 0.2) << "two busy threads for up to 20 s";
  EXPECT_GT(before.max_fds, during.open_fds);
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  EXPECT_LE(before.start_time_seconds, now + 1);
  EXPECT_GT(before.start_time_seconds, now - 3600) << "this test started less than an hour ago";
  EXPECT_GT(before.resident_bytes, 0);
  EXPECT_GT(before.virtual_bytes, before.resident_bytes);
}

TEST(ProcessStats, ThePeakResidentSizeSeesATouchedBlockAndCanBeReset) {
  const ProcessStats before = Read();
  constexpr size_t kBlock = 96 << 20;
  {
    std::vector<char> block(kBlock);
    for (size_t i = 0; i < block.size(); i += 4096) block[i] = 1;
    EXPECT_GE(Read().peak_resident_bytes, before.resident_bytes + static_cast<int64_t>(kBlock) - (8 << 20));
  }
  ASSERT_TRUE(ResetPeakResidentMemory());
  const ProcessStats after = Read();
  // The peak restarts from what is resident now (the block went back to the system, unless a
  // sanitizer's quarantine still holds it).
  EXPECT_LE(after.peak_resident_bytes, after.resident_bytes + (4 << 20));
}

TEST(ProcessStats, TheCollectorPublishesThePrometheusNames) {
  MetricsRegistry metrics;
  AddProcessMetrics(metrics);
  const std::string text = metrics.RenderPrometheus();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                           "process_open_fds", "process_max_fds", "process_threads", "process_start_time_seconds"}) {
    EXPECT_NE(text.find(std::string("\n") + name + " "), std::string::npos) << name << " missing:\n" << text;
  }
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter"), std::string::npos);
  EXPECT_GT(metrics.Value("process_resident_memory_bytes"), 1 << 20);
}

}  // namespace
}  // namespace wanserve
