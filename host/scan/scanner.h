// Scanning a library (SPEC section 6): record every supported file with
// its size, mtime and format, read which `nom` keys are on disk, set
// has_nomarr_namespace and infer last_written_mode for files nomtag has
// not written. Unchanged files (same size and mtime) are not reopened;
// files that disappeared are marked missing, never deleted with their
// tags; symbolic links are not followed (a link cannot lead outside the
// root); what an interrupted write left is resolved first.
#ifndef NOMTAG_SCAN_SCANNER_H_
#define NOMTAG_SCAN_SCANNER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/library.h"
#include "core/status.h"
#include "plugins/plugin_registry.h"
#include "store/storage_database.h"
#include "write/recovery.h"

namespace nomtag {

struct ScanReport {
  int64_t seen = 0;       // supported files on disk
  int64_t added = 0;      // new in the database
  int64_t updated = 0;    // changed on disk, read again
  int64_t unchanged = 0;  // same size and mtime: not opened
  int64_t missing = 0;    // newly marked missing
  int64_t skipped = 0;    // unsupported extensions and symbolic links
  std::vector<std::pair<std::string, std::string>> errors;  // path, error
  RecoveryReport recovery;
};

// progress, when set, is called with the number of files seen so far.
Result<ScanReport> ScanLibrary(StorageDatabase& db,
                               const PluginRegistry& registry,
                               const Library& library,
                               const std::function<void(int64_t)>& progress);

}  // namespace nomtag

#endif  // NOMTAG_SCAN_SCANNER_H_
