#include "workers.h"

namespace nomtag::onnx {

Workers::~Workers() { Resize(1); }

void Workers::Resize(int threads) {
  if (threads < 1) threads = 1;
  if (threads == size()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  stop_ = false;
  for (int k = 1; k < threads; ++k)
    threads_.emplace_back(&Workers::Loop, this, k);
}

// Takes items until none is left. Items are handed out one at a time
// under the lock: they are large (a band of a convolution, a slice of a
// matrix), so the lock is taken a few hundred times per batch at most.
void Workers::Take(int thread) {
  for (;;) {
    int64_t item;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (next_ >= count_) return;
      item = next_++;
    }
    try {
      (*fn_)(item, thread);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
      next_ = count_;  // the others stop at their next item
    }
  }
}

void Workers::Loop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    Take(thread);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
}

void Workers::For(int64_t n, const std::function<void(int64_t, int)>& fn) {
  if (n <= 0) return;
  if (threads_.empty() || n == 1) {
    for (int64_t k = 0; k < n; ++k) fn(k, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    next_ = 0;
    count_ = n;
    error_ = nullptr;
    busy_ = static_cast<int>(threads_.size());
    ++generation_;
  }
  start_.notify_all();
  Take(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return busy_ == 0; });
    fn_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace nomtag::onnx
