// The job runner: one thread per job, snapshots under one mutex.
#include "server/job_runner.h"

#include <chrono>

namespace nomtag::server {
namespace {

constexpr size_t kKeepErrors = 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kRunning:
      return "running";
    case JobState::kDone:
      return "done";
    case JobState::kFailed:
      return "failed";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

nlohmann::json ToJson(const JobSnapshot& job) {
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& [path, error] : job.last_errors)
    errors.push_back({{"path", path}, {"error", error}});
  return {{"id", job.id},
          {"kind", job.kind},
          {"library_id", job.library_id},
          {"state", JobStateName(job.state)},
          {"cancel_requested", job.cancel_requested},
          {"cancellable", job.cancellable},
          {"done", job.done},
          {"total", job.total},
          {"failed", job.failed},
          {"last_errors", errors},
          {"error", job.error},
          {"result", job.result},
          {"started_ms", job.started_ms},
          {"finished_ms", job.finished_ms}};
}

struct JobRunner::Job {
  JobSnapshot snap;               // guarded by the runner's mu_
  std::atomic<bool> stop{false};  // read by the work without the lock
  bool thread_done = false;       // guarded by mu_
};

class JobRunner::Context : public JobContext {
 public:
  Context(JobRunner* runner, std::shared_ptr<Job> job)
      : runner_(runner), job_(std::move(job)) {}
  void SetTotal(int64_t total) override {
    std::lock_guard<std::mutex> lock(runner_->mu_);
    job_->snap.total = total;
  }
  void SetProgress(int64_t done, int64_t failed) override {
    std::lock_guard<std::mutex> lock(runner_->mu_);
    job_->snap.done = done;
    job_->snap.failed = failed;
  }
  void AddError(const std::string& path, const std::string& error) override {
    std::lock_guard<std::mutex> lock(runner_->mu_);
    auto& errors = job_->snap.last_errors;
    errors.emplace_back(path, error);
    if (errors.size() > kKeepErrors) errors.erase(errors.begin());
  }
  bool StopRequested() const override {
    return job_->snap.cancellable && job_->stop.load();
  }
  void SetResult(nlohmann::json result) override {
    std::lock_guard<std::mutex> lock(runner_->mu_);
    job_->snap.result = std::move(result);
  }

 private:
  JobRunner* runner_;
  std::shared_ptr<Job> job_;
};

JobRunner::~JobRunner() {
  std::vector<std::pair<std::shared_ptr<Job>, std::thread>> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& [id, job] : jobs_) job->stop = true;
    threads.swap(threads_);
  }
  for (auto& [job, t] : threads) t.join();
}

JobRunner::StartResult JobRunner::Start(const std::string& kind,
                                        int64_t library_id, bool cancellable,
                                        JobWork work) {
  std::lock_guard<std::mutex> lock(mu_);
  // Threads whose work has returned only have to leave Run: join them.
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (!it->first->thread_done) {
      ++it;
      continue;
    }
    it->second.join();
    it = threads_.erase(it);
  }
  for (const auto& [id, job] : jobs_)
    if (job->snap.state == JobState::kRunning && job->snap.kind == kind &&
        job->snap.library_id == library_id)
      return {job->snap, false};
  auto job = std::make_shared<Job>();
  job->snap.id = next_id_++;
  job->snap.kind = kind;
  job->snap.library_id = library_id;
  job->snap.cancellable = cancellable;
  job->snap.started_ms = NowMs();
  jobs_[job->snap.id] = job;
  threads_.emplace_back(
      job, std::thread(&JobRunner::Run, this, job, std::move(work)));
  return {job->snap, true};
}

void JobRunner::Run(std::shared_ptr<Job> job, JobWork work) {
  Context context(this, job);
  Status status = work(context);
  std::lock_guard<std::mutex> lock(mu_);
  JobSnapshot& s = job->snap;
  if (!status.ok()) {
    s.state = JobState::kFailed;
    s.error = status.ToString();
  } else {
    s.state = context.StopRequested() ? JobState::kCancelled : JobState::kDone;
  }
  s.finished_ms = NowMs();
  job->thread_done = true;
  finished_order_.push_back(s.id);
  while (finished_order_.size() > kKeepFinished) {
    jobs_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
  finished_cv_.notify_all();
}

std::optional<JobSnapshot> JobRunner::Find(int64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second->snap;
}

std::optional<JobSnapshot> JobRunner::Running(const std::string& kind,
                                              int64_t library_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, job] : jobs_)
    if (job->snap.state == JobState::kRunning && job->snap.kind == kind &&
        job->snap.library_id == library_id)
      return job->snap;
  return std::nullopt;
}

std::optional<JobSnapshot> JobRunner::LastFinished(int64_t library_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = finished_order_.rbegin(); it != finished_order_.rend(); ++it) {
    auto job = jobs_.find(*it);
    if (job != jobs_.end() && job->second->snap.library_id == library_id)
      return job->second->snap;
  }
  return std::nullopt;
}

std::vector<JobSnapshot> JobRunner::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<JobSnapshot> out;
  for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it)
    out.push_back(it->second->snap);
  return out;
}

std::optional<JobSnapshot> JobRunner::WhileIdle(
    int64_t library_id, const std::function<void()>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, job] : jobs_)
    if (job->snap.state == JobState::kRunning &&
        job->snap.library_id == library_id)
      return job->snap;
  fn();
  return std::nullopt;
}

bool JobRunner::RequestStop(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  if (it->second->snap.state == JobState::kRunning) {
    it->second->snap.cancel_requested = true;
    it->second->stop = true;
  }
  return true;
}

std::optional<JobSnapshot> JobRunner::Wait(int64_t id) {
  std::unique_lock<std::mutex> lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  std::shared_ptr<Job> job = it->second;  // stays alive if pruned meanwhile
  finished_cv_.wait(lock, [&] { return job->thread_done; });
  return job->snap;
}

}  // namespace nomtag::server
