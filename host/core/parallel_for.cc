#include "core/parallel_for.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

namespace nomtag {
namespace {

// One ParallelFor call, as the helpers see it.
struct Job {
  const std::function<void()>* run = nullptr;
  size_t wanted = 0;  // helpers it may still take (guarded by Pool::mu_)
  size_t active = 0;  // helpers running it (guarded by Pool::mu_)
  std::condition_variable finished;  // active fell to 0
};

// Helper threads kept for the life of the process. A reconcile calls
// ParallelFor a few times per group of 64 files, and starting and joining
// threads for every call was ~700 thread starts per 3,000 files. Helpers
// are started when a call wants more than are idle, up to kMaxHelpers
// (two reconcile workers at once, each with kMaxWorkThreads - 1), and
// then wait for the next call. The caller always runs its own steps too,
// so a call never waits for a helper to become free.
class Pool {
 public:
  static Pool& Get() {
    // Never destroyed: helpers may still be waiting at exit.
    static Pool* pool = new Pool;
    return *pool;
  }

  // Offers job to up to job->wanted helpers; returns at once.
  void Post(Job* job) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(job);
    while (idle_ < job->wanted && helpers_ < kMaxHelpers) {
      ++helpers_;
      ++idle_;  // counted idle until it takes a job
      std::thread([this] { Loop(); }).detach();
    }
    // As many as it may take: waking every idle helper for each call was
    // a futex storm.
    for (size_t k = 0; k < job->wanted; ++k) work_.notify_one();
  }

  // Takes the job back from helpers that have not started it, and waits
  // for those that have.
  void Finish(Job* job) {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = std::find(queue_.begin(), queue_.end(), job);
    if (it != queue_.end()) queue_.erase(it);
    job->wanted = 0;
    job->finished.wait(lock, [job] { return job->active == 0; });
  }

 private:
  static constexpr size_t kMaxHelpers = 2 * (kMaxWorkThreads - 1);

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      work_.wait(lock, [this] { return !queue_.empty(); });
      Job* job = queue_.front();
      if (--job->wanted == 0) queue_.pop_front();
      ++job->active;
      --idle_;
      lock.unlock();
      (*job->run)();
      lock.lock();
      ++idle_;
      if (--job->active == 0) job->finished.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable work_;
  std::deque<Job*> queue_;  // jobs that still want helpers
  size_t helpers_ = 0;
  size_t idle_ = 0;
};

}  // namespace

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
  const std::function<void()> run = [&] {
    while (more()) {
      const size_t i = next.fetch_add(1);
      if (i >= end) return;
      step(i);
    }
  };
  threads = std::min(threads, end > begin ? end - begin : 0);
  if (threads <= 1) {
    run();
    return std::min(next.load(), end);
  }
  Job job;
  job.run = &run;
  job.wanted = threads - 1;
  Pool::Get().Post(&job);
  run();
  Pool::Get().Finish(&job);
  return std::min(next.load(), end);
}

}  // namespace nomtag
