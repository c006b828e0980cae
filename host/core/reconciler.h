// Reconciler: makes a library's files match the database (SPEC section 5).
//
// Claim a batch → compute each file's desired tag set (its database tags
// filtered by the library's mode and the calibration) → project it into
// the file → record it as written (fenced by the claim token) or give the
// claim back with the error → next batch, until nothing is left.
//
// A failing file never stops the run: its claim is held until the run
// ends (so the run does not pick it again), then released with its error,
// and the file stays pending for the next run. Knows nothing of SQL,
// TagLib or files on disk: it works through TagStore and FileProjector.
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

struct ReconcileOptions {
  uint32_t batch = 100;
  int workers = 1;
  bool dry_run = false;
  int64_t lease_ms = 10 * 60 * 1000;
  std::string worker_id = "nomtag";  // made unique per thread
  // Called from worker threads, one call at a time.
  std::function<void(const ReconcileProgress&)> on_progress;
  // Polled before each file, from worker threads. When it answers true the
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
