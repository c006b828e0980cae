// The safe write: claim is the caller's; this is build → verify → commit
// for one file (SPEC section 5).
//
// The invariants of the write path (host/write and host/io), which every
// change here must keep:
//
//   I1 One handle. A write opens its file once, at the top, beneath the
//      library root's descriptor with no symbolic link in any component
//      (io/open_beneath.h), as a TargetFile (io/target_file.h) carrying
//      the descriptor, the folder's descriptor and the identity (dev,
//      inode, size, mtime, ctime). Build, verify, journal, commit,
//      rollback and recovery all take that handle; sidecar files are made
//      with openat on the folder's descriptor; the rename is a renameat in
//      it; the path is only ever used in messages. Nothing resolves the
//      name again, so nothing can land in a file renamed over it.
//   I2 Checked descriptor. Every byte is written through a descriptor
//      whose identity was checked immediately before the first byte
//      (fstat of that descriptor, and of the name in the folder, against
//      the full identity read at open). A file changed, replaced or
//      renamed since it was read is not written: Conflict, retried later.
//   I3 Liveness is a lock. A writer holds an OFD lock on the file for the
//      whole build-verify-commit (two nomtag writers of one file, or of
//      two hard-linked names of it, wait for each other), and on its
//      journal or temporary copy from creation to removal. Recovery only
//      tries these locks without waiting and leaves locked files alone. No
//      pid, host name or timer decides whether a writer lives.
//   I4 Foreign bytes. Every byte that is not in the `nom` namespace stays
//      identical; the namespace reads back exactly, every foreign item is
//      unchanged, and the audio payload is checked (by mapping or hash)
//      before a byte reaches the disk (verified_build.h). A copy keeps the
//      owner, mode and extended attributes, or is refused.
//   I5 Old or new. Whatever moment the process dies at, or the power
//      goes, the file is the old version or the new one: in place, the
//      journal with the original bytes is durable (with its name) before
//      the first byte is written and the file is durable (size and times
//      too) before the journal goes; grown in place (a shift), the same,
//      with the room the filesystem inserts durable before a new byte
//      goes into it (one barrier more); by copy, the copy is durable
//      before the rename and the folder after it. One write makes each of these
//      with fsync; a group (SafeWriteBatch) makes each at once for all its
//      files, with one syncfs per filesystem where that is thorough
//      (sync_barrier.h), so a batch costs two syncs, not three per file;
//      its writes in place in one folder share one journal (an entry per
//      file), so it creates a journal file per folder, not per file.
//   I6 Report what happened. A failure before the new version is durable
//      leaves the old file and nothing beside it; a failure after it
//      (folder fsync, journal removal) is a warning on a successful write,
//      because the file does hold the new version.
//   I7 Recovery converges. A rerun right after a crash resolves what was
//      left (recovery.h) and finishes the work; recovery never undoes a
//      write it cannot prove was ours and interrupted, never deletes a
//      journal it could not read, and never touches a file whose writer
//      lives.
//
// The steps:
//   1. Open the handle and take the writer's lock (I1, I3); resolve the
//      journals a killed writer left in its folder with an entry for it
//      (I7; recovery.h RecoverJournalsOf, one listing per folder).
//   2. Read the namespace; if it already is the desired one, stop: the file
//      is not rewritten and its mtime does not move.
//   3. Snapshot the foreign tags and the audio payload.
//   4. Let the format plugin write the namespace into an in-memory overlay.
//   5. Verify through the overlay: the namespace reads back exactly as
//      desired, every foreign item is unchanged, the payload is unchanged.
//      A failure leaves nothing on disk.
//   6. Commit in place under a journal when offsets allow, grown in place
//      when the tag area grows at the front and the filesystem can insert
//      room there (the aligned build's padding makes the rest move by
//      whole blocks), else by copy and rename (commit.h), checking the
//      handle just before (I2); in a
//      group, each stage of the commit is taken by every file before the
//      barrier that follows it.
//
// Every error names the file, the step and the cause, and leaves the
// original byte-identical. Thread-safe for distinct files; two threads or
// processes writing one file wait for each other.
#ifndef NOMTAG_WRITE_SAFE_WRITE_H_
#define NOMTAG_WRITE_SAFE_WRITE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tag_set.h"
#include "formats/format_plugin.h"
#include "io/target_file.h"

namespace nomtag {

struct WriteOptions {
  bool keep_mtime = false;       // library option
  bool copy_only = false;        // write_strategy: copy (never in place)
  bool break_hardlinks = false;  // hardlinks: break (allow detaching a name)
  uint32_t padding = 0;          // passed to the plugin; 0 = its default
  // Called by the commit right before the first byte reaches the file
  // (CommitOptions::gate: the claim check of core/file_projector.h's
  // CommitGate); a non-OK status stops the write with nothing written.
  // Unset: always go ahead.
  std::function<Status()> before_commit;
};

struct WriteResult {
  // kGrownInPlace: the tag area grew in place by whole blocks (commit.h,
  // a shift): same inode, only the front of the file written.
  enum class Action { kUnchanged, kInPlace, kGrownInPlace, kCopied };
  Action action = Action::kUnchanged;
  uint64_t bytes_written = 0;
  bool payload_proven_by_mapping = false;
  // What went wrong after the new version was durable (the write
  // succeeded; the caller shows these).
  std::vector<std::string> warnings;
  // A journal an earlier, killed write left, resolved first.
  int rolled_back = 0;
  // The file as this write found it immediately before its first byte
  // (commit.h CommitStats::before); dev and inode 0: nothing was written.
  FileIdentity before;
  // The file as this write left it (as it was found when unchanged), from
  // the descriptor the write went through; dev and inode 0: not known.
  FileIdentity after;
};

const char* ActionName(WriteResult::Action action);

// Part of the message of a write refused because a copy would detach a
// hard-linked name; `status` counts failures by it.
inline constexpr char kHardLinkRefusal[] =
    "hard links and the new tags do not fit in place";

// One file of a group write.
struct SafeWriteItem {
  const FormatPlugin* format = nullptr;
  TargetFile* target = nullptr;  // opened for writing (kWrite): locked
  TagSet desired;
  WriteOptions options;
  // What killed writers left for this file was resolved by the caller
  // (RecoverJournalsOf, recovery.h) after it took the lock and before it
  // read the file; otherwise the batch resolves it first.
  bool leftovers_resolved = false;
};

// Writes every item as SafeWriteTarget would, sharing the syncs (group
// commit): what killed writers left in the files' folders is resolved
// (one listing per folder); each file is built and verified and its copy
// made, and one journal per folder holds the writes in place; one barrier
// makes them durable; every file is written (its gate asked
// just before); one barrier makes the files durable; the journals go.
// A member that fails at any step is rolled back alone (its file as it
// was, nothing beside it) and the others go on; one result per item, in
// order. The targets stay locked until the call returns, so a group holds
// three descriptors per file: keep groups bounded (kMaxGroup).
// Building, verifying and staging each member, and retiring its journal,
// run on up to WorkThreads() threads (core/parallel_for.h), each member
// on one thread; the barriers, the gate and the patches run on the
// calling thread, in order, so the sync order above is the same.
std::vector<Result<WriteResult>> SafeWriteBatch(
    const std::vector<SafeWriteItem>& items);

// The largest group written at once (reconcile, group_write.h).
inline constexpr size_t kMaxGroup = 64;
// How many bytes of staged copies a group lets wait beside their
// originals before it commits what it has (the rest forms the next group).
inline constexpr uint64_t kMaxGroupCopyBytes = 256ull << 20;

// Writes through target. REQUIRES: target was opened for writing
// (TargetFile::Purpose::kWrite), so it holds the writer's lock.
Result<WriteResult> SafeWriteTarget(const FormatPlugin& format,
                                    TargetFile& target, const TagSet& desired,
                                    const WriteOptions& options);

// Opens path as a user named it (TargetFile::Open) and writes it.
Result<WriteResult> SafeWriteNamespace(const FormatPlugin& format,
                                       const std::string& path,
                                       const TagSet& desired,
                                       const WriteOptions& options);

Result<FileTags> ReadTargetTags(const FormatPlugin& format, TargetFile& target);
Result<FileTags> ReadFileTags(const FormatPlugin& format,
                              const std::string& path);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SAFE_WRITE_H_
