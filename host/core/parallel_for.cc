#include "core/parallel_for.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

namespace nomtag {

size_t WorkThreads() {
  if (const char* env = std::getenv("NOMTAG_WORK_THREADS")) {
    char* end = nullptr;
    unsigned long n = std::strtoul(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= kMaxWorkThreads) return n;
  }
  // The affinity mask, not the machine's cores: a container or `taskset`
  // may give this process fewer.
  cpu_set_t set;
  size_t cores = 0;
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    cores = static_cast<size_t>(CPU_COUNT(&set));
  if (cores == 0) cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min(2 * cores, kMaxWorkThreads);
}

size_t ParallelFor(size_t begin, size_t end, size_t threads,
                   const std::function<void(size_t)>& step,
                   const std::function<bool()>& more) {
  std::atomic<size_t> next{begin};
  auto run = [&] {
    while (more()) {
      const size_t i = next.fetch_add(1);
      if (i >= end) return;
      step(i);
    }
  };
  threads = std::min(threads, end > begin ? end - begin : 0);
  std::vector<std::thread> others;
  for (size_t t = 1; t < threads; ++t) others.emplace_back(run);
  run();
  for (auto& t : others) t.join();
  return std::min(next.load(), end);
}

}  // namespace nomtag
