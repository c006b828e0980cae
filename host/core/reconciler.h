// Reconciler: makes a library's files match the database (SPEC section 5).
//
// Claim a batch → compute each file's desired tag set (its database tags
// filtered by the library's mode and the calibration) → project it into
// the file → record it as written (fenced by the claim token) or give the
// claim back with the error → next batch, until nothing is left. The
// files of a batch go to the projector in groups (its GroupLimit), whose
// writes are made durable together; the group's records then go to the
// store in one transaction, after the files are durable.
//
// A failing file never stops the run: its claim is held until the run
// ends (the store never gives a worker what it holds), then released with
// its error, and the file stays pending for the next run. Knows nothing of
// SQL, TagLib or files on disk: it works through TagStore and
// FileProjector.
//
// No write without a valid claim at that moment: the run is one worker
// (the store's liveness lock), a heartbeat renews its claims every third
// of the lease, and right before each commit the projector asks the store
// whether the claim still holds (CommitGate). A file found superseded
// after its write is marked pending again by the store, and claimed again.
#ifndef NOMTAG_CORE_RECONCILER_H_
#define NOMTAG_CORE_RECONCILER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/file_projector.h"
#include "core/library.h"
#include "core/status.h"
#include "core/tag_store.h"

namespace nomtag {

struct ReconcileProgress {
  int64_t done = 0;     // processed + failed so far
  int64_t pending = 0;  // pending when the run started
};

inline constexpr int64_t kMinLeaseMs = 1000;
inline constexpr int64_t kMaxLeaseMs = 7 * 24 * 3600 * 1000LL;

struct ReconcileOptions {
  uint32_t batch = 100;
  // Groups of files in flight at once, each on a thread of its own (with
  // two, one group is read, built and verified while the other waits on
  // its syncs and the database; `nomtag reconcile` runs two).
  int workers = 1;
  bool dry_run = false;
  int64_t lease_ms = 10 * 60 * 1000;  // kMinLeaseMs..kMaxLeaseMs
  // Called from worker threads, one call at a time.
  std::function<void(const ReconcileProgress&)> on_progress;
  // The tags a file's analysis results yield (core/analysis.h), merged over
  // its database tags; empty function: none. Called from worker threads.
  std::function<Result<TagSet>(int64_t file_id)> analysis_tags;
  // Polled before each group of files (FileProjector::GroupLimit), from
  // worker threads. When it answers true the
  // run stops: claims not yet worked on are given back (the files stay
  // pending) and the report counts only what was done.
  std::function<bool()> should_stop;
};

// What a dry run would change in one file.
struct FileDiff {
  std::string path;
  std::vector<std::string> added, changed, removed;
  std::string error;  // the file could not be read
};

struct ReconcileReport {
  int64_t processed = 0;  // brought in line (written or already right)
  int64_t written = 0;    // of those, files actually rewritten
  int64_t failed = 0;
  int64_t superseded = 0;  // lease expired and another worker took over
  int64_t remaining = 0;   // still pending after the run
  std::string worker;      // this run's worker id
  // Workers still holding claims on pending files when the run ended: the
  // files this run could not take.
  std::vector<ClaimHolder> held_by_others;
  std::vector<std::pair<std::string, std::string>> failures;  // path, error
  std::vector<FileDiff> diffs;                                // dry run only
};

Result<ReconcileReport> Reconcile(TagStore& store, FileProjector& projector,
                                  const Library& library,
                                  const ReconcileOptions& options);

// The keys added, changed and removed going from on_disk to desired.
FileDiff DiffTags(const std::string& path, const TagSet& on_disk,
                  const TagSet& desired);

}  // namespace nomtag

#endif  // NOMTAG_CORE_RECONCILER_H_
