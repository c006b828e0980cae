// Scanning a library (SPEC section 6): record every supported file with
// its size, mtime and format, read which `nom` keys are on disk, set
// has_nomarr_namespace and infer last_written_mode for files nomtag has
// not written; the original system's score keys count as ours, and a
// new file's are imported as its tags (core/original_keys.h). Unchanged files
// (same size, mtime, device and inode) are not reopened; what an interrupted
// write left is resolved first.
//
// Never marks missing what it did not see: a folder (or entry) it cannot
// read is reported in `unseen` with its error, and no file at or under it
// is marked missing. Files that disappeared are marked missing, never
// deleted with their tags; a file that moved or was renamed within the
// library (a new path whose device, inode, size and mtime match a row
// gone from its old path) takes over that row, keeping its tags and
// state. Symbolic links are not followed and folders are opened beneath
// their parent (io/tree_walk.h), so nothing outside the root is read; a
// file is read only when the descriptor opened is the file the walk saw.
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
  int64_t moved = 0;      // new paths that took over a gone file's row
  int64_t missing = 0;    // newly marked missing
  int64_t skipped = 0;    // unsupported extensions and symbolic links
  // Files seen whose namespace could not be read: path, error.
  std::vector<std::pair<std::string, std::string>> errors;
  // Folders and entries not read (path relative to the root, "." for the
  // root itself), with the error; nothing under them was marked missing.
  std::vector<std::pair<std::string, std::string>> unseen;
  RecoveryReport recovery;

  // True when every file was seen and read.
  bool complete() const { return errors.empty() && unseen.empty(); }
};

// progress, when set, is called with the number of files seen so far.
Result<ScanReport> ScanLibrary(StorageDatabase& db,
                               const PluginRegistry& registry,
                               const Library& library,
                               const std::function<void(int64_t)>& progress);

}  // namespace nomtag

#endif  // NOMTAG_SCAN_SCANNER_H_
