#pragma once
// What the kernel says about this process (/proc/self), for the process_* metrics every
// Prometheus client exports and for the engine's memory per run.
#include <cstdint>

#include "common/error.h"

namespace wanserve {

class MetricsRegistry;

struct ProcessStats {
  double cpu_seconds = 0;            // user + system time
  int64_t resident_bytes = 0;        // VmRSS
  int64_t peak_resident_bytes = 0;   // VmHWM: the most resident since start or the last reset
  int64_t virtual_bytes = 0;         // VmSize
  int64_t open_fds = 0;
  int64_t max_fds = 0;               // the soft RLIMIT_NOFILE
  int64_t threads = 0;
  double start_time_seconds = 0;     // Unix time the process started
};

// kUnavailable when /proc cannot be read (not Linux, or /proc not mounted).
Result<ProcessStats> ReadProcessStats();

// Sets the peak resident size to the current one (Linux's clear_refs "5"), so a later
// peak_resident_bytes is the most used since this call. False when the kernel refused.
bool ResetPeakResidentMemory();

// A collector publishing process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds, process_threads and
// process_start_time_seconds at each scrape (the names of Prometheus's client libraries).
void AddProcessMetrics(MetricsRegistry& metrics);

}  // namespace wanserve
