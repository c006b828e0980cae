#include "core/reconciler.h"

#include <mutex>
#include <thread>

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

// Shared by the worker threads of one run.
struct RunState {
  std::mutex mu;
  ReconcileReport report;
  ReconcileProgress progress;
  std::vector<std::pair<ClaimedFile, std::string>> failed;  // held claims
  Status fatal;  // a store error stops every worker
};

void Work(TagStore& store, FileProjector& projector, const Library& library,
          const ReconcileOptions& options, const std::string& worker,
          RunState* state) {
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
    for (size_t i = 0; i < batch->size(); ++i) {
      const ClaimedFile& file = (*batch)[i];
      if (options.should_stop && options.should_stop()) {
        // Stopped: the rest of the batch goes back untouched, no error.
        for (size_t j = i; j < batch->size(); ++j)
          store.ReleaseClaim((*batch)[j], "").ok();
        return;
      }
      std::string error;
      bool written = false;
      bool recorded = true;
      auto tags = store.FileTags(file.id);
      if (!StaysInsideRoot(file.path)) {
        error = "corrupt row: path '" + file.path +
                "' leaves the library root; not written";
      } else if (!tags.ok()) {
        error = tags.status().message();
      } else {
        TagSet desired =
            DesiredTags(*tags, library.mode, !calibration->empty());
        Status s = projector.Project(library, Join(library.root, file.path),
                                     desired, &written);
        if (!s.ok()) {
          error = s.ToString();
        } else {
          auto r = store.SetWritten(file, library.mode, *calibration,
                                    !desired.empty());
          if (!r.ok())
            error = r.status().message();
          else
            recorded = *r;
        }
      }
      std::lock_guard<std::mutex> lock(state->mu);
      if (!error.empty()) {
        ++state->report.failed;
        state->failed.emplace_back(file, error);
        state->report.failures.emplace_back(file.path, error);
      } else if (!recorded) {
        ++state->report.superseded;
      } else {
        ++state->report.processed;
        if (written) ++state->report.written;
      }
      ++state->progress.done;
      if (options.on_progress) options.on_progress(state->progress);
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
      auto tags = store.FileTags(file.id);
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
  std::vector<std::thread> threads;
  for (int i = 1; i < options.workers; ++i)
    threads.emplace_back(Work, std::ref(store), std::ref(projector),
                         std::cref(library), std::cref(options),
                         options.worker_id + "#" + std::to_string(i), &state);
  Work(store, projector, library, options, options.worker_id + "#0", &state);
  for (auto& t : threads) t.join();

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
  return state.report;
}

}  // namespace nomtag
