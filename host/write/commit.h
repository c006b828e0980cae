// Committing a verified overlay to disk, the cheapest safe way, through
// the write's one handle (io/target_file.h).
//
// CommitInPlace: when every surviving original byte keeps its offset, the
// new bytes are written over the old ones through the handle's descriptor,
// under a rollback journal (journal.h) made beside the file with openat on
// the handle's folder (in a group, one journal for all the group's writes
// in place in that folder: JournalFile). Every hard link sees the new tags; the
// file keeps its inode. The file is made durable with fsync or syncfs, never
// only fdatasync: a grown size and the new mtime and ctime must be durable too,
// or scan and rsync may skip the file after a power cut.
//
// A shift: when the new file is new bytes up to some offset and then the
// whole rest of the old file, moved by a multiple of kCloneBlock (a tag
// area that grew at the front; the safe write pads it to make the move a
// whole number of blocks), on a filesystem that can insert a range (ext4
// with extents, XFS): under a journal as in place, the filesystem first
// inserts the room (fallocate FALLOC_FL_INSERT_RANGE moves the blocks
// after it, copying nothing), that is made durable, then the new bytes are
// written over the front. A first write then costs a few KiB, not a copy
// of the whole file, and the file keeps its inode and hard links. A power
// cut in the insert leaves one hole the journal's recovery finds
// (journal.h ShiftGap) and rolls back.
//
// CommitByCopy: otherwise the piece table is streamed into a temporary
// file made in the handle's folder (original ranges with copy_file_range,
// so filesystems that can clone or copy server-side do; a range at the
// same offset within a kCloneBlock in both files is split at the first
// block boundary, so that the rest can be cloned, and the safe write pads
// a copy's tag area to put the audio there), which gets the
// original's permissions, ownership and extended attributes (user xattrs,
// POSIX ACLs, security labels; a copy that cannot carry one is refused),
// is made durable and renamed over the original; then the folder is made
// durable.
//
// Both hold an OFD lock on their sidecar file from its creation to its
// removal (liveness for recovery), and check the handle (fstat of the
// descriptor and of the name: dev, inode, size, mtime, ctime) immediately
// before the first byte reaches the file or the rename replaces it,
// returning Conflict when it changed. On any failure before that point the
// original is as it was and nothing is left beside it. A failure after the
// new version is durable (the folder fsync after the rename, the journal's
// removal) is not a failed write: it is reported in *warnings.
#ifndef NOMTAG_WRITE_COMMIT_H_
#define NOMTAG_WRITE_COMMIT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/overlay_stream.h"
#include "io/target_file.h"
#include "write/journal.h"
#include "write/sync_barrier.h"

namespace nomtag {

// The block a filesystem clones by (XFS, Btrfs, ZFS: 4 KiB or a divisor
// of it on every setup nomtag writes to): a copy's original range is
// shared instead of copied when it sits at the same offset within this
// block in both files.
inline constexpr uint64_t kCloneBlock = 4096;

// A shift's plan (above): the new file is the overlay's bytes up to head,
// then the old file from head - len to its end; the filesystem inserts len
// bytes at `at` (head - len rounded down to a block).
struct ShiftPlan {
  uint64_t at = 0;
  uint64_t len = 0;
  uint64_t head = 0;
};

// The plan when overlay (built over target.source()) has a shift's shape
// and the file can take one: the moved rest is at least kMinShiftTail
// bytes (less is cheaper to copy), and the file has no hole after `at`
// (so that recovery can tell the room from the file's own holes).
// REQUIRES: the file's filesystem inserts ranges (io/filesystem_kind.h
// MayInsertRanges), asked once by the caller.
std::optional<ShiftPlan> PlanShift(TargetFile& target,
                                   const OverlayStream& overlay);
inline constexpr uint64_t kMinShiftTail = 64 * 1024;

struct CommitOptions {
  bool keep_mtime = false;  // give the new file the original's mtime
  // Asked after the handle's identity check, immediately before the first
  // byte reaches the file (in place: after the journal is durable; by
  // copy: before the rename), so that nothing a slow journal or a long
  // copy spends can outlive the claim it answers for. A non-OK status
  // stops the commit with the file as it was. Unset: always go ahead.
  std::function<Status()> gate;
};

struct CommitStats {
  uint64_t bytes_written = 0;  // to the file or the copy, journal included
  // What went wrong after the new version was durable.
  std::vector<std::string> warnings;
  // The original as the commit found it: fstat of the descriptor it
  // writes through, by the identity check immediately before the first
  // byte reached the file (in place) or the rename replaced it (by copy).
  // The store carries an analysis made at exactly this size and mtime
  // forward to `after`: the bytes it analysed are the ones this commit
  // rewrote, and only their nom namespace changed. dev and inode 0: the
  // commit did not get that far.
  FileIdentity before;
  // The new version as the commit left it, read from the descriptor it
  // wrote through (so a program writing the file a moment later is never
  // taken for nomtag's write). dev and inode 0: not known.
  FileIdentity after;
};

// The journal on disk of one folder's writes in place in a group: one
// file, locked from its creation until it is removed, holding one entry
// per write (journal.h). Each commit lets go of it when its file is
// durable (or rolled back); the last one removes it, unless a commit
// whose rollback failed needs it kept for recovery. Thread-safe.
class JournalFile {
 public:
  // Writes entries as the journal `name` in dir_fd (borrowed: it must
  // stay open while this lives), for `users` commits. label names it in
  // messages and test hooks.
  static Result<std::shared_ptr<JournalFile>> Create(
      int dir_fd, const std::string& name, const std::string& label,
      const std::vector<const Journal*>& entries, size_t users);
  ~JournalFile();
  JournalFile(const JournalFile&) = delete;
  JournalFile& operator=(const JournalFile&) = delete;

  int fd() const { return fd_; }
  const std::string& label() const { return label_; }
  // One user is done. keep: its file still needs the journal (its
  // rollback failed). The last user removes the journal unless one kept
  // it, and gets the removal's status; the others get OK.
  Status Release(bool keep);

 private:
  JournalFile(int dir_fd, std::string name, std::string label, int fd,
              size_t users)
      : dir_fd_(dir_fd),
        name_(std::move(name)),
        label_(std::move(label)),
        fd_(fd),
        users_(users) {}
  const int dir_fd_;
  const std::string name_;
  const std::string label_;
  const int fd_;  // its lock says a writer lives
  std::mutex mu_;
  size_t users_;
  bool keep_ = false;
};

// One file's commit, in the stages between which a group of files shares
// its syncs (safe_write.h, sync_barrier.h):
//
//   Stage       in place: the journal entry is made in memory; by copy:
//               the whole copy is written beside the file and locked;
//               nothing touches the file itself;
//   Journals    in place: StageJournals writes the entries of a folder's
//               commits into one journal file beside them, locked;
//   barrier 1   NeedBeforeApply: the journal and its name, or the copy;
//   Apply       the handle checked, the gate asked, then the new bytes
//               through the descriptor (in place), the room inserted (a
//               shift) or the rename (by copy);
//   barrier 1b  NeedBeforeHead, shifts only: the file, its room made;
//   ApplyHead   a shift's new bytes through the descriptor;
//   barrier 2   NeedBeforeFinish: the file (in place) or its folder (by
//               copy);
//   Finish      the journal let go of (the folder's last commit removes
//               it); what the write left.
//
// A failure before Apply's first byte leaves the file as it was and
// nothing beside it; a failure in or after it rolls the file back from its
// journal (in place), or is a warning once the new version is durable.
// Destroying a PendingCommit that did not finish removes its sidecar,
// unless it is a journal that still protects written bytes.
class PendingCommit {
 public:
  enum class Kind { kInPlace, kShift, kCopy };

  // REQUIRES: overlay was built over target.source() and outlives this;
  // target is locked and outlives this; kInPlace needs
  // overlay.PreservesOffsets(); kShift needs shift, from PlanShift.
  static Result<std::unique_ptr<PendingCommit>> Stage(
      TargetFile& target, const OverlayStream& overlay, Kind kind,
      const CommitOptions& opts, const ShiftPlan& shift = {});
  // Writes the journals of the staged commits in place among commits
  // (others are skipped): one per folder, named after its first commit's
  // file. One status per commit, in order; a commit whose journal could
  // not be made must not go on (its file untouched, nothing left).
  static std::vector<Status> StageJournals(
      const std::vector<PendingCommit*>& commits);
  ~PendingCommit();
  PendingCommit(const PendingCommit&) = delete;
  PendingCommit& operator=(const PendingCommit&) = delete;

  Kind kind() const { return kind_; }
  void NeedBeforeApply(SyncBarrier& barrier, size_t member) const;
  // staged: what barrier 1 answered for this member.
  Status Apply(Status staged);
  // Shifts only (others: nothing to do, OK).
  void NeedBeforeHead(SyncBarrier& barrier, size_t member) const;
  // inserted: what barrier 1b answered for this member.
  Status ApplyHead(Status inserted);
  void NeedBeforeFinish(SyncBarrier& barrier, size_t member) const;
  // applied: what barrier 2 answered for this member.
  Status Finish(Status applied);
  CommitStats& stats() { return stats_; }

 private:
  PendingCommit(TargetFile& target, const OverlayStream& overlay, Kind kind,
                const CommitOptions& opts, const ShiftPlan& shift);
  // A journal's identity, length and writer (in place and shift alike),
  // then its ranges: StageJournal for a write in place, StageShift for a
  // shift.
  Status StartJournal();
  Status StageJournal();
  Status StageShift();
  Status StageCopy();
  void ReleaseJournal(bool keep, Status* removed);
  Status RollBackWith(Status why);
  void DropSidecar();

  TargetFile& target_;
  const OverlayStream& overlay_;
  const Kind kind_;
  const CommitOptions opts_;
  const ShiftPlan shift_;
  Journal journal_;
  std::shared_ptr<JournalFile> journal_file_;  // in place, once written
  std::string sidecar_;                        // the copy's name in the folder
  int sidecar_fd_ = -1;        // open and locked while the copy exists
  bool file_touched_ = false;  // in place: bytes written, the journal guards
  bool renamed_ = false;       // by copy: the copy has the file's name
  CommitStats stats_;
};

// A commit of one file on its own: the stages above with fsyncs.
// REQUIRES: overlay.PreservesOffsets(); overlay was built over
// target.source(); target is writable and locked.
Status CommitInPlace(TargetFile& target, const OverlayStream& overlay,
                     const CommitOptions& opts, CommitStats* stats);

// REQUIRES: overlay was built over target.source(); target is locked.
Status CommitByCopy(TargetFile& target, const OverlayStream& overlay,
                    const CommitOptions& opts, CommitStats* stats);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_COMMIT_H_
