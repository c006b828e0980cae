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

// Opens file i for writing, locked, reading nothing of it yet. wait_ms
// as TargetFile::OpenBeneath: 0 means fail at once, setting *busy, when
// another writer holds the lock.
using OpenForGroup = std::function<Status(size_t i, int wait_ms, bool* busy,
                                          std::unique_ptr<TargetFile>* out)>;

// The format of file i, found from its content (a whole version by then:
// what an interrupted write left is resolved first, because a
// half-patched file may not probe as its format).
using FormatForGroup =
    std::function<Result<const FormatPlugin*>(size_t i, TargetFile& target)>;

struct GroupWriteItem {
  TagSet desired;
  WriteOptions options;
};

// Writes every item through open and format, one result per item, in
// order. Each round opens its files side by side, resolves what killed
// writers left in their folders (recovery.h, one listing per folder),
// finds their formats side by side, and writes them as one group. A group
// holds its files' locks until it is durable, so a file whose lock is
// taken (another name of a hard-linked file in this very group, or
// another writer) waits for a later round instead of for a lock the
// group itself holds; a round that can take no lock at all waits, one
// file at a time, as a single write would.
std::vector<Result<WriteResult>> WriteInGroups(
    const std::vector<GroupWriteItem>& items, const OpenForGroup& open,
    const FormatForGroup& format);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_GROUP_WRITE_H_
