// Analyzer: runs one inference plugin over the files of a library that are
// due for it, and stores the results in the database (SPEC section 1:
// analysis writes to the database only; the next reconcile projects).
//
// Claim a batch of due files → per file: decode it once with FFmpeg
// (opened read-only), convert to what the plugin declared it wants, stream
// it to the plugin in blocks, collect head outputs, descriptors and an
// embedding → store them (fenced by the claim token). Several processes
// share the work through the claims. A file that cannot be analysed (not
// audio, corrupt, too short, too many channels, the plugin's own refusal)
// is stored as a failed result with its reason and the run goes on; it is
// not retried until the file, the plugin's version or its settings change
// (or --force). A file that changes while it is analysed is left due.
#ifndef NOMTAG_ANALYSIS_ANALYZER_H_
#define NOMTAG_ANALYSIS_ANALYZER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/library.h"
#include "core/status.h"
#include "plugins/plugin_registry.h"
#include "store/storage_database.h"

namespace nomtag {

struct AnalyzeOptions {
  int workers = 1;
  bool force = false;    // re-analyse files whose results are current
  bool dry_run = false;  // list what is due, analyse nothing
  uint32_t batch = 4;
  int64_t lease_ms = 10 * 60 * 1000;
  // Called from worker threads, one call at a time: files done so far and
  // files due when the run started.
  std::function<void(int64_t done, int64_t due)> on_progress;
  // Asked before each file (from worker threads): true stops the run; the
  // files claimed and not analysed go back untouched, still due.
  std::function<bool()> should_stop;
};

struct AnalyzeReport {
  int64_t due = 0;       // when the run started
  int64_t analysed = 0;  // results stored
  int64_t failed = 0;    // stored as failed, with a reason
  int64_t left_due = 0;  // changed while analysed, or lost the claim
  double audio_seconds = 0;
  double wall_seconds = 0;
  std::map<std::string, int64_t> failures_by_reason;  // reason kind -> count
  std::vector<std::pair<std::string, std::string>> failures;  // path, reason
  std::vector<std::string> due_paths;                         // dry run only
};

// What makes the plugin's results current: its id, version and a digest
// of its settings text.
AnalysisKey KeyOf(const InferencePluginRef& plugin);

Result<AnalyzeReport> Analyze(StorageDatabase& db,
                              const InferencePluginRef& plugin,
                              const Library& library,
                              const AnalyzeOptions& options);

// One file, no database: decode path and run the plugin over it. What
// Analyze does per file; the benchmark and tests call it directly.
// Returns the outcome (outcome.error set for a per-file failure).
AnalysisOutcome AnalyzeOneFile(const InferencePluginRef& plugin, void* session,
                               const std::string& path);

}  // namespace nomtag

#endif  // NOMTAG_ANALYSIS_ANALYZER_H_
