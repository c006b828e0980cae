// Running independent steps on a few threads: the calling thread and at
// most threads - 1 helpers, which the process keeps between calls (a
// thread started per call cost a reconcile ~700 thread starts per 3,000
// files). Every step has returned before the call does.
#ifndef NOMTAG_CORE_PARALLEL_FOR_H_
#define NOMTAG_CORE_PARALLEL_FOR_H_

#include <cstddef>
#include <functional>

namespace nomtag {

// How many threads the per-file work of a write may use: twice the cores
// this process may run on, at most kMaxWorkThreads. Twice, because that
// work waits on the filesystem much of the time (opening the file
// beneath its root, taking its lock, a cold read): on two cores four
// threads wrote 3,000 changed files ~6 % faster than two (medians of
// seven interleaved runs, ext4, when each file still had a journal of
// its own). NOMTAG_WORK_THREADS (1..kMaxWorkThreads) overrides it, so a test
// can make a run serial.
inline constexpr size_t kMaxWorkThreads = 4;
size_t WorkThreads();

// Calls step(i) for i = begin, begin + 1, ... on up to `threads` threads,
// each taking the next i when it is free, while more() is true (asked
// before each i is taken, from any of the threads). Returns the first i
// not taken: every i below it was stepped exactly once, none above. A
// step that stops more() cannot recall the steps already running on
// other threads, so up to threads - 1 further steps may still be taken
// after it. step and more must be safe to call concurrently.
size_t ParallelFor(size_t begin, size_t end, size_t threads,
                   const std::function<void(size_t)>& step,
                   const std::function<bool()>& more);

}  // namespace nomtag

#endif  // NOMTAG_CORE_PARALLEL_FOR_H_
