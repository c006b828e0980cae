// Committing a verified overlay to disk, the cheapest safe way, through
// the write's one handle (io/target_file.h).
//
// CommitInPlace: when every surviving original byte keeps its offset, the
// new bytes are written over the old ones through the handle's descriptor,
// under a rollback journal (journal.h) made beside the file with openat on
// the handle's folder. Every hard link sees the new tags; the file keeps
// its inode. The file is fsynced (not fdatasynced: a grown size and the
// new mtime and ctime must be durable too, or scan and rsync may skip the
// file after a power cut).
//
// CommitByCopy: otherwise the piece table is streamed into a temporary
// file made in the handle's folder (original ranges with copy_file_range,
// so filesystems that can clone or copy server-side do), which gets the
// original's permissions, ownership and extended attributes (user xattrs,
// POSIX ACLs, security labels; a copy that cannot carry one is refused),
// is fsynced and renamed over the original; then the folder is fsynced.
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
#include <string>
#include <vector>

#include "core/status.h"
#include "io/overlay_stream.h"
#include "io/target_file.h"

namespace nomtag {

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
  // The new version as the commit left it, read from the descriptor it
  // wrote through (so a program writing the file a moment later is never
  // taken for nomtag's write). dev and inode 0: not known.
  FileIdentity after;
};

// REQUIRES: overlay.PreservesOffsets(); overlay was built over
// target.source(); target is writable and locked.
Status CommitInPlace(TargetFile& target, const OverlayStream& overlay,
                     const CommitOptions& opts, CommitStats* stats);

// REQUIRES: overlay was built over target.source(); target is locked.
Status CommitByCopy(TargetFile& target, const OverlayStream& overlay,
                    const CommitOptions& opts, CommitStats* stats);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_COMMIT_H_
