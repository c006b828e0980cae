// Committing a verified overlay to disk, the cheapest safe way.
//
// CommitInPlace: when every surviving original byte keeps its offset, the
// new bytes are written over the old ones under a rollback journal
// (journal.h). Every hard link sees the new tags; the file keeps its inode.
//
// CommitByCopy: otherwise the piece table is streamed into a temporary
// file beside the original (original ranges with copy_file_range, so
// filesystems that can clone or copy server-side do), which gets the
// original's permissions and ownership, is fsynced and renamed over the
// original; then the directory is fsynced.
//
// Both re-check that the file is still the one that was read (device,
// inode, size, mtime) just before they touch it, and return Conflict when
// it is not. On any failure the original is as it was and nothing is left
// beside it.
#ifndef NOMTAG_WRITE_COMMIT_H_
#define NOMTAG_WRITE_COMMIT_H_

#include <cstdint>
#include <string>

#include "core/status.h"
#include "io/file_source.h"
#include "io/overlay_stream.h"

namespace nomtag {

struct CommitOptions {
  bool keep_mtime = false;  // give the new file the original's mtime
};

struct CommitStats {
  uint64_t bytes_written = 0;  // to the file or the copy, journal included
};

// REQUIRES: overlay.PreservesOffsets(); overlay was built over source.
Status CommitInPlace(const std::string& path, FileSource& source,
                     const OverlayStream& overlay, const CommitOptions& opts,
                     CommitStats* stats);

// REQUIRES: overlay was built over source.
Status CommitByCopy(const std::string& path, FileSource& source,
                    const OverlayStream& overlay, const CommitOptions& opts,
                    CommitStats* stats);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_COMMIT_H_
