// JobRunner: long work (scan, reconcile; later analyze and calibration
// generation) run in the server's process, one thread per job.
//
// A job is a kind ("scan", "reconcile", ...), a library and a work
// function. The runner gives it an id, tracks its progress (done / total /
// failed and the last errors), lets a client ask it to stop, and keeps the
// last finished jobs for the status routes. Only one job of a kind runs
// per library at a time: a second start is answered with the running job.
//
// A new kind plugs in by calling Start with its own work function; the
// runner knows nothing of what the work does. The work writes files only
// through the same claims as the command line (the reconciler's), so a
// CLI run and a server job on one library never write a file twice.
//
// Thread contract: every method may be called from any thread. Work
// functions run on the job's own thread and report through JobContext.
#ifndef NOMTAG_SERVER_JOB_RUNNER_H_
#define NOMTAG_SERVER_JOB_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace nomtag::server {

enum class JobState { kRunning, kDone, kFailed, kCancelled };
const char* JobStateName(JobState state);

// A copy of a job's state at one moment.
struct JobSnapshot {
  int64_t id = 0;
  std::string kind;
  int64_t library_id = 0;
  JobState state = JobState::kRunning;
  bool cancel_requested = false;
  bool cancellable = true;
  int64_t done = 0, total = 0, failed = 0;
  std::vector<std::pair<std::string, std::string>> last_errors;  // path, why
  std::string error;      // why the whole job failed
  nlohmann::json result;  // the work's summary once finished (or null)
  int64_t started_ms = 0, finished_ms = 0;
};

nlohmann::json ToJson(const JobSnapshot& job);

// What a work function sees of its job.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual void SetTotal(int64_t total) = 0;
  virtual void SetProgress(int64_t done, int64_t failed) = 0;
  // Keeps the last few errors (older ones are dropped).
  virtual void AddError(const std::string& path, const std::string& error) = 0;
  virtual bool StopRequested() const = 0;
  virtual void SetResult(nlohmann::json result) = 0;
};

// The work: runs on the job's thread; a non-OK status fails the job.
using JobWork = std::function<Status(JobContext&)>;

class JobRunner {
 public:
  JobRunner() = default;
  // Asks every running job to stop and waits for them.
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  struct StartResult {
    JobSnapshot job;
    bool started = false;  // false: job is the one already running
  };
  // Starts work as a job of kind on library_id, unless one of that kind
  // runs there already. cancellable=false: a stop request is recorded but
  // the work is not asked to stop (a half-done scan would be misleading).
  StartResult Start(const std::string& kind, int64_t library_id,
                    bool cancellable, JobWork work);

  std::optional<JobSnapshot> Find(int64_t id) const;
  // The running job of kind on library_id, if any.
  std::optional<JobSnapshot> Running(const std::string& kind,
                                     int64_t library_id) const;
  // The newest finished job on library_id, if one is still kept. The page
  // shows it, so a job that finished before the page looked (a fast
  // reconcile) still reports how it ended.
  std::optional<JobSnapshot> LastFinished(int64_t library_id) const;
  // Running jobs and the last finished ones, newest first.
  std::vector<JobSnapshot> List() const;
  // Runs fn while no job runs on library_id, with job starts held off
  // until it returns (fn must not call the runner). Returns the running
  // job instead, without calling fn, when there is one.
  std::optional<JobSnapshot> WhileIdle(int64_t library_id,
                                       const std::function<void()>& fn);
  // Asks a job to stop. False when there is no such job.
  bool RequestStop(int64_t id);
  // Waits until the job has finished and returns its final state.
  std::optional<JobSnapshot> Wait(int64_t id);

 private:
  struct Job;
  class Context;
  void Run(std::shared_ptr<Job> job, JobWork work);

  static constexpr size_t kKeepFinished = 50;
  mutable std::mutex mu_;
  std::condition_variable finished_cv_;
  int64_t next_id_ = 1;
  std::map<int64_t, std::shared_ptr<Job>> jobs_;  // running and kept
  std::deque<int64_t> finished_order_;
  // Each job's thread; finished ones are joined at the next Start.
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> threads_;
  bool shutting_down_ = false;
};

}  // namespace nomtag::server

#endif  // NOMTAG_SERVER_JOB_RUNNER_H_
