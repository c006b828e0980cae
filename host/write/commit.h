// Committing a verified overlay to disk, the cheapest safe way, through
// the write's one handle (io/target_file.h).
//
// CommitInPlace: when every surviving original byte keeps its offset, the
// new bytes are written over the old ones through the handle's descriptor,
// under a rollback journal (journal.h) made beside the file with openat on
// the handle's folder. Every hard link sees the new tags; the file keeps
// its inode. The file is made durable with fsync or syncfs, never only
// fdatasync: a grown size and the new mtime and ctime must be durable too,
// or scan and rsync may skip the file after a power cut.
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

// One file's commit, in the stages between which a group of files shares
// its syncs (safe_write.h, sync_barrier.h):
//
//   Stage       the journal (in place) or the whole copy (by copy) is
//               written beside the file and locked; nothing touches the
//               file itself;
//   barrier 1   NeedBeforeApply: the journal and its name, or the copy;
//   Apply       the handle checked, the gate asked, then the new bytes
//               through the descriptor (in place) or the rename (by copy);
//   barrier 2   NeedBeforeFinish: the file (in place) or its folder (by
//               copy);
//   Finish      the journal removed; what the write left.
//
// A failure before Apply's first byte leaves the file as it was and
// nothing beside it; a failure in or after it rolls the file back from its
// journal (in place), or is a warning once the new version is durable.
// Destroying a PendingCommit that did not finish removes its sidecar,
// unless it is a journal that still protects written bytes.
class PendingCommit {
 public:
  enum class Kind { kInPlace, kCopy };

  // REQUIRES: overlay was built over target.source() and outlives this;
  // target is locked and outlives this; kInPlace needs
  // overlay.PreservesOffsets().
  static Result<std::unique_ptr<PendingCommit>> Stage(
      TargetFile& target, const OverlayStream& overlay, Kind kind,
      const CommitOptions& opts);
  ~PendingCommit();
  PendingCommit(const PendingCommit&) = delete;
  PendingCommit& operator=(const PendingCommit&) = delete;

  Kind kind() const { return kind_; }
  void NeedBeforeApply(SyncBarrier& barrier, size_t member) const;
  // staged: what barrier 1 answered for this member.
  Status Apply(Status staged);
  void NeedBeforeFinish(SyncBarrier& barrier, size_t member) const;
  // applied: what barrier 2 answered for this member.
  Status Finish(Status applied);
  CommitStats& stats() { return stats_; }

 private:
  PendingCommit(TargetFile& target, const OverlayStream& overlay, Kind kind,
                const CommitOptions& opts);
  Status StageJournal();
  Status StageCopy();
  Status RollBackWith(Status why);
  void DropSidecar();

  TargetFile& target_;
  const OverlayStream& overlay_;
  const Kind kind_;
  const CommitOptions opts_;
  Journal journal_;
  std::string sidecar_;        // the journal's or the copy's name in the folder
  int sidecar_fd_ = -1;        // open and locked while the sidecar exists
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
