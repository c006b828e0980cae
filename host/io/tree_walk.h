// WalkTree: every entry under a folder, without following a symbolic link
// and without losing an error.
//
// Why not std::filesystem::recursive_directory_iterator: libstdc++'s
// increment(ec) turns an error (a folder that vanished or cannot be
// opened, no descriptor left) into the end iterator, so the walk stops
// silently and whoever treats "not seen" as "gone" marks everything not
// yet reached as missing. This walker opens each folder beneath its
// parent's descriptor (openat with O_NOFOLLOW | O_DIRECTORY), so a link
// swapped in for a folder is never followed out of the root; it reports
// each folder it could not read, with the error, and goes on with the
// rest. Entries come in name order within a folder.
//
// Thread: one walk per call; the visitor is called on the caller's thread.
#ifndef NOMTAG_IO_TREE_WALK_H_
#define NOMTAG_IO_TREE_WALK_H_

#include <functional>
#include <string>

#include "core/status.h"
#include "io/file_source.h"

namespace nomtag {

struct WalkEntry {
  enum class Kind { kFile, kSymlink, kOther };
  Kind kind = Kind::kOther;
  std::string rel;        // relative to the root, '/'-separated
  std::string name;       // the last component of rel
  FileIdentity identity;  // lstat of the entry (not of a link's target)
};

struct WalkVisitor {
  // Every file, symbolic link and other non-folder entry.
  std::function<void(const WalkEntry&)> entry;
  // A folder or entry (rel; "" for the root itself) that could not be
  // read: nothing under it was seen, or not all of it. A caller must not
  // conclude that anything at or under rel is gone.
  std::function<void(const std::string& rel, const std::string& error)>
      unreadable;
};

// Walks root. Returns non-OK only when root itself cannot be opened as a
// folder (then nothing was visited); every other error goes to
// visitor.unreadable and the walk continues.
Status WalkTree(const std::string& root, const WalkVisitor& visitor);

// True when path is rel or lies under it ("" covers everything).
bool IsAtOrUnder(const std::string& path, const std::string& rel);

}  // namespace nomtag

#endif  // NOMTAG_IO_TREE_WALK_H_
