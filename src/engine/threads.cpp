#include <ATen/Parallel.h>
#include <sched.h>

#include "engine/golden.h"

namespace wanserve::engine {

int ApplyThreads(int threads) {
  if (threads <= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    threads = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
  }
  at::set_num_threads(threads);
  return at::get_num_threads();
}

}  // namespace wanserve::engine
