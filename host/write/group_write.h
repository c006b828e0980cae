// Writing many files as groups: each round opens and locks as many of
// them as it can without waiting (at most kMaxGroup) and commits them
// together (SafeWriteBatch); a file whose lock is held goes to a later
// round. Used by reconcile (safe_write_projector.h) and by `tags write`
// of several files.
#ifndef NOMTAG_WRITE_GROUP_WRITE_H_
#define NOMTAG_WRITE_GROUP_WRITE_H_

#include <functional>
#include <memory>
#include <vector>

#include "io/target_file.h"
#include "write/safe_write.h"

namespace nomtag {

// One file of a group write, as its opener left it.
struct OpenedFile {
  std::unique_ptr<TargetFile> target;  // kWrite: locked
  const FormatPlugin* format = nullptr;
};

// Opens file i for writing, locked, with what an interrupted write left
// resolved, and finds its format. wait_ms as TargetFile::OpenBeneath: 0
// means fail at once, setting *busy, when another writer holds the lock.
using OpenForGroup =
    std::function<Status(size_t i, int wait_ms, bool* busy, OpenedFile* out)>;

struct GroupWriteItem {
  TagSet desired;
  WriteOptions options;
};

// Writes every item through open, one result per item, in order. A group
// holds its files' locks until it is durable, so a file whose lock is
// taken (another name of a hard-linked file in this very group, or
// another writer) waits for a later round instead of for a lock the
// group itself holds; a round that can take no lock at all waits, one
// file at a time, as a single write would.
std::vector<Result<WriteResult>> WriteInGroups(
    const std::vector<GroupWriteItem>& items, const OpenForGroup& open);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_GROUP_WRITE_H_
