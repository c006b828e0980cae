// WorkerProcess: one running worker command, with its stdin, stdout and
// stderr, read with deadlines and bounded buffers.
//
// The worker runs in a process group of its own, so Stop() ends it and
// anything it started (a decoder, a shell's children) with one SIGKILL,
// then reaps it: no zombie and no orphan outlives a Stop(). Its stdin is a
// socket written with MSG_NOSIGNAL, so a worker that died never raises
// SIGPIPE in nomtag. Stdout is read a line at a time, never more than the
// line limit plus one read; stderr is drained while waiting (a worker
// blocked on a full stderr pipe would look hung) and only its last bytes
// are kept.
//
// Thread contract: one thread at a time. The destructor stops the worker.
#ifndef NOMTAG_PLUGINS_INFERENCE_EXTERNAL_WORKER_PROCESS_H_
#define NOMTAG_PLUGINS_INFERENCE_EXTERNAL_WORKER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace nomtag::external {

class WorkerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  WorkerProcess(std::vector<std::string> argv, size_t max_line_bytes,
                size_t stderr_bytes);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Starts the command. Empty on success, else why not (the command
  // cannot be run). REQUIRES: !running().
  std::string Start();
  bool running() const { return pid_ > 0; }

  // Writes line to the worker's stdin. Empty on success, else why not (the
  // worker closed its input or is gone, or did not read it by deadline).
  std::string Send(std::string_view line, Clock::time_point deadline);

  enum class Read { kLine, kTimeout, kTooLong, kEnd };
  // Reads the next line (without its newline) by deadline. kTooLong when
  // more than max_line_bytes came without a newline; kEnd when the worker
  // closed its stdout.
  Read ReadLine(std::string* line, Clock::time_point deadline);

  // Ends the worker (and its process group) and reaps it. Says how it
  // ended: "exited with status 3", "was killed by signal 11
  // (Segmentation fault)". graceful: close its stdin and give it that
  // long to exit by itself first. No-op when not running.
  std::string Stop(std::chrono::milliseconds graceful);

  // The last bytes the worker wrote to stderr (since Start).
  std::string stderr_tail() const { return stderr_; }
  // Its last non-empty stderr line, at most 300 bytes, for a reason.
  std::string last_stderr_line() const;

 private:
  void DrainStderr();
  void CloseFds();

  std::vector<std::string> argv_;
  size_t max_line_;
  size_t stderr_max_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string pending_;  // stdout bytes read but not yet returned
  std::string stderr_;
};

}  // namespace nomtag::external

#endif  // NOMTAG_PLUGINS_INFERENCE_EXTERNAL_WORKER_PROCESS_H_
