// Workers: the executor's own threads, which split a kernel's independent
// pieces of work (images of a batch, bands of output rows, rows of a
// matrix) between them while every sgemm runs single-threaded in the
// thread that calls it.
//
// Why not OpenBLAS's threads for the GEMMs and OpenMP for the rest: the
// two pools spin against each other for the same cores (2 threads went to
// 737 ms per patch), and OpenBLAS's threads leave im2col, the output pass
// and the data movement on one core. One pool for everything keeps every
// thread busy with a whole piece: copy, multiply, output pass.
//
// One Workers per Model (Run is on one thread at a time), so Models run by
// different analysis workers never share threads.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_WORKERS_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_WORKERS_H_

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nomtag::onnx {

class Workers {
 public:
  Workers() = default;
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Threads taking part in For(), the caller's included (at least 1).
  void Resize(int threads);
  int size() const { return static_cast<int>(threads_.size()) + 1; }

  // Calls fn(item, thread) for every item in [0, n), each once, spread
  // over the threads; `thread` in [0, size()) tells a call which of the
  // per-thread scratch buffers is its own. Returns when every call has;
  // rethrows the first exception one threw. Not reentrant.
  void For(int64_t n, const std::function<void(int64_t, int)>& fn);

 private:
  void Loop(int thread);
  void Take(int thread);

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_, done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int busy_ = 0;  // threads still inside the current For
  int64_t next_ = 0, count_ = 0;
  const std::function<void(int64_t, int)>* fn_ = nullptr;
  std::exception_ptr error_;
};

}  // namespace nomtag::onnx

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_GRAPH_WORKERS_H_
