#include "core/reconciler.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/analysis.h"
#include "core/test_pause.h"

namespace nomtag {
namespace {

std::string Join(const std::string& root, const std::string& rel) {
  if (root.empty() || root.back() == '/') return root + rel;
  return root + "/" + rel;
}

// A path from the database must stay inside the library's root: a row
// holding "../x" or "/etc/x" is corrupt, and nothing is written for it.
bool StaysInsideRoot(const std::string& rel) {
  if (rel.empty() || rel[0] == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t slash = rel.find('/', start);
    std::string part = rel.substr(start, slash - start);
    if (part == "..") return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

// The claims of one group of files, checked together right before the
// group's first byte: one transaction renews every claim of the group for
// a whole lease, where a check per file cost a database write each. A file
// committed within a quarter of the lease after that check is covered by
// it: the claim of a live worker is taken over only once its lease has run
// out, and the renewal put that a whole lease away. Past the quarter (the
// run was stopped, the disk was slow) the group is checked again.
class GroupClaims {
 public:
  GroupClaims(TagStore& store, int64_t lease_ms)
      : store_(store), lease_ms_(lease_ms) {}
  // Returns the index of file for Held. REQUIRES: file outlives this.
  size_t Add(const ClaimedFile& file) {
    files_.push_back(&file);
    return files_.size() - 1;
  }
  // Whether file i is still this run's to write, right now.
  Result<bool> Held(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (held_.empty() ||
        now - checked_at_ >= std::chrono::milliseconds(lease_ms_ / 4)) {
      checked_at_ = now;  // before the check: the renewal counts from later
      held_ = store_.CheckClaims(files_, lease_ms_);
    }
    return held_[i];
  }

 private:
  TagStore& store_;
  const int64_t lease_ms_;
  std::vector<const ClaimedFile*> files_;
  std::mutex mu_;
  std::vector<Result<bool>> held_;  // by file; empty until first asked
  std::chrono::steady_clock::time_point checked_at_;
};

// Asks, right before the commit, whether the claim still holds.
class ClaimGate : public CommitGate {
 public:
  ClaimGate(GroupClaims& claims, const ClaimedFile& file)
      : claims_(claims), file_(file), index_(claims.Add(file)) {}
  Status MayCommit() override {
    auto held = claims_.Held(index_);
    if (!held.ok()) return held.status();
    if (!*held) {
      lost_ = true;
      return Status::Refused(file_.path +
                             ": another worker took this file over (the "
                             "lease ran out); not written");
    }
    PauseForTest("after-claim-check");
    return Status::OK();
  }
  bool lost() const { return lost_; }

 private:
  GroupClaims& claims_;
  const ClaimedFile& file_;
  const size_t index_;
  bool lost_ = false;
};

// Renews the run's claims every third of the lease until stopped, so that
// a long batch (or one slow file) does not lose what it still holds.
class Heartbeat {
 public:
  Heartbeat(TagStore& store, std::string worker, int64_t lease_ms)
      : thread_([this, &store, worker = std::move(worker), lease_ms] {
          std::unique_lock<std::mutex> lock(mu_);
          const auto period = std::chrono::milliseconds(lease_ms / 3);
          while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
            lock.unlock();
            (void)store.RenewClaims(worker, lease_ms);  // retried next beat
            lock.lock();
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

// The file's database tags with its analysis tags merged over them.
Result<TagSet> SourceTags(TagStore& store, const ReconcileOptions& options,
                          int64_t file_id) {
  auto tags = store.FileTags(file_id);
  if (!tags.ok() || !options.analysis_tags) return tags;
  auto extra = options.analysis_tags(file_id);
  if (!extra.ok()) return extra.status();
  return MergeTags(std::move(*tags), *extra);
}

// Shared by the worker threads of one run.
struct RunState {
  std::mutex mu;
  ReconcileReport report;
  ReconcileProgress progress;
  std::vector<std::pair<ClaimedFile, std::string>> failed;  // held claims
  Status fatal;  // a store error stops every worker
};

// How one file of a group ended.
struct Outcome {
  std::string error;
  bool written = false;
  bool recorded = true;
  bool lost = false;
};

// Projects one group of claimed files (at most the projector's group
// limit) with their writes made durable together, then records the ones
// written in one database transaction.
void ProjectGroup(TagStore& store, FileProjector& projector,
                  const Library& library, const ReconcileOptions& options,
                  const std::string& calibration,
                  const std::vector<const ClaimedFile*>& files,
                  RunState* state) {
  std::vector<Outcome> outcomes(files.size());
  GroupClaims claims(store, options.lease_ms);
  std::vector<std::unique_ptr<ClaimGate>> gates(files.size());
  std::vector<FileProjector::Item> items;
  std::vector<size_t> item_of;  // index in files of each item
  std::vector<Result<TagSet>> sources;
  store.ReadTogether([&] {
    for (const ClaimedFile* file : files)
      sources.push_back(SourceTags(store, options, file->id));
  });
  for (size_t i = 0; i < files.size(); ++i) {
    const ClaimedFile& file = *files[i];
    const Result<TagSet>& tags = sources[i];
    if (!StaysInsideRoot(file.path)) {
      outcomes[i].error = "corrupt row: path '" + file.path +
                          "' leaves the library root; not written";
    } else if (!tags.ok()) {
      outcomes[i].error = tags.status().message();
    } else {
      TagSet desired = DesiredTags(*tags, library.mode, !calibration.empty());
      gates[i] = std::make_unique<ClaimGate>(claims, file);
      items.push_back(
          {Join(library.root, file.path), std::move(desired), gates[i].get()});
      item_of.push_back(i);
    }
  }
  PauseForTest("before-project");
  std::vector<Projection> done;
  std::vector<Status> statuses = projector.ProjectMany(library, items, &done);
  std::vector<TagStore::Written> records;
  std::vector<size_t> record_of;
  for (size_t k = 0; k < items.size(); ++k) {
    const size_t i = item_of[k];
    Outcome& o = outcomes[i];
    o.written = done[k].written;
    if (gates[i]->lost())
      o.lost = true;  // nothing written; the new owner writes it
    else if (!statuses[k].ok())
      o.error = statuses[k].ToString();
    else {
      records.push_back({files[i], !items[k].desired.empty(), done[k].before,
                         done[k].after, TagSetDigest(items[k].desired)});
      record_of.push_back(i);
    }
  }
  // The files are durable: now the database may say so.
  auto recorded = store.SetWrittenAll(records, library.mode, calibration);
  for (size_t r = 0; r < records.size(); ++r) {
    Outcome& o = outcomes[record_of[r]];
    if (!recorded[r].ok())
      o.error = recorded[r].status().message();
    else
      o.recorded = *recorded[r];
  }

  std::lock_guard<std::mutex> lock(state->mu);
  for (size_t i = 0; i < files.size(); ++i) {
    const Outcome& o = outcomes[i];
    if (o.lost) {
      ++state->report.superseded;
    } else if (!o.error.empty()) {
      ++state->report.failed;
      state->failed.emplace_back(*files[i], o.error);
      state->report.failures.emplace_back(files[i]->path, o.error);
    } else if (!o.recorded) {
      ++state->report.superseded;
    } else {
      ++state->report.processed;
      if (o.written) ++state->report.written;
    }
    ++state->progress.done;
    if (options.on_progress) options.on_progress(state->progress);
  }
}

void Work(TagStore& store, FileProjector& projector, const Library& library,
          const ReconcileOptions& options, const std::string& worker,
          RunState* state) {
  const size_t group = std::max<size_t>(1, projector.GroupLimit());
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      if (!state->fatal.ok()) return;
    }
    auto calibration = store.CalibrationHash();
    auto batch = calibration.ok()
                     ? store.ClaimBatch(library.id, worker, options.batch,
                                        options.lease_ms)
                     : Result<std::vector<ClaimedFile>>(calibration.status());
    if (!batch.ok()) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (state->fatal.ok()) state->fatal = batch.status();
      return;
    }
    if (batch->empty()) return;
    for (size_t i = 0; i < batch->size(); i += group) {
      if (options.should_stop && options.should_stop()) {
        // Stopped: the rest of the batch goes back untouched, no error.
        for (size_t j = i; j < batch->size(); ++j)
          store.ReleaseClaim((*batch)[j], "").ok();
        return;
      }
      std::vector<const ClaimedFile*> files;
      for (size_t j = i; j < std::min(batch->size(), i + group); ++j)
        files.push_back(&(*batch)[j]);
      ProjectGroup(store, projector, library, options, *calibration, files,
                   state);
    }
  }
}

}  // namespace

FileDiff DiffTags(const std::string& path, const TagSet& on_disk,
                  const TagSet& desired) {
  FileDiff diff;
  diff.path = path;
  for (const auto& [key, values] : desired) {
    auto it = on_disk.find(key);
    if (it == on_disk.end())
      diff.added.push_back(key);
    else if (it->second != values)
      diff.changed.push_back(key);
  }
  for (const auto& [key, values] : on_disk)
    if (!desired.count(key)) diff.removed.push_back(key);
  return diff;
}

Result<ReconcileReport> Reconcile(TagStore& store, FileProjector& projector,
                                  const Library& library,
                                  const ReconcileOptions& options) {
  if (options.batch < 1 || options.batch > 100000)
    return Status::InvalidArgument("batch size must be between 1 and 100000");
  if (options.workers < 1 || options.workers > 256)
    return Status::InvalidArgument("workers must be between 1 and 256");
  if (options.lease_ms < kMinLeaseMs || options.lease_ms > kMaxLeaseMs)
    return Status::InvalidArgument("the lease must be between " +
                                   std::to_string(kMinLeaseMs) + " ms and " +
                                   std::to_string(kMaxLeaseMs) + " ms, not " +
                                   std::to_string(options.lease_ms));

  if (options.dry_run) {
    auto calibration = store.CalibrationHash();
    if (!calibration.ok()) return calibration.status();
    auto pending = store.ListPending(library.id);
    if (!pending.ok()) return pending.status();
    ReconcileReport report;
    for (const PendingFile& file : *pending) {
      if (!StaysInsideRoot(file.path)) {
        report.diffs.push_back({file.path,
                                {},
                                {},
                                {},
                                "corrupt row: the path leaves the library "
                                "root"});
        continue;
      }
      auto tags = SourceTags(store, options, file.id);
      if (!tags.ok()) {
        report.diffs.push_back(
            {file.path, {}, {}, {}, tags.status().ToString()});
        continue;
      }
      TagSet desired = DesiredTags(*tags, library.mode, !calibration->empty());
      auto on_disk = projector.Read(Join(library.root, file.path));
      FileDiff diff;
      if (on_disk.ok()) {
        diff = DiffTags(file.path, *on_disk, desired);
      } else {
        diff.path = file.path;
        diff.error = on_disk.status().ToString();
      }
      report.diffs.push_back(std::move(diff));
    }
    report.remaining = static_cast<int64_t>(pending->size());
    return report;
  }

  RunState state;
  auto pending = store.CountPending(library.id);
  if (!pending.ok()) return pending.status();
  state.progress.pending = *pending;
  // One worker for the whole run, its threads included: the store never
  // hands it a file it already holds.
  auto worker = store.StartWorker();
  if (!worker.ok()) return worker.status();
  state.report.worker = *worker;
  {
    Heartbeat heartbeat(store, *worker, options.lease_ms);
    std::vector<std::thread> threads;
    for (int i = 1; i < options.workers; ++i)
      threads.emplace_back(Work, std::ref(store), std::ref(projector),
                           std::cref(library), std::cref(options), *worker,
                           &state);
    Work(store, projector, library, options, *worker, &state);
    for (auto& t : threads) t.join();
  }

  // Give back the claims of the files that failed, with their errors.
  Status release;
  for (const auto& [file, error] : state.failed) {
    Status s = store.ReleaseClaim(file, error);
    if (release.ok()) release = s;
  }
  if (!state.fatal.ok()) return state.fatal;
  if (!release.ok()) return release;
  auto remaining = store.CountPending(library.id);
  if (!remaining.ok()) return remaining.status();
  state.report.remaining = *remaining;
  if (*remaining > 0) {
    auto holders = store.ClaimHolders(library.id);
    if (!holders.ok()) return holders.status();
    for (const ClaimHolder& h : *holders)
      if (h.worker != *worker) state.report.held_by_others.push_back(h);
  }
  return state.report;
}

}  // namespace nomtag
