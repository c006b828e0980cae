// FileProjector: how reconciliation reads and writes a file's namespace,
// without knowing formats, overlays or journals (the safe write does).
#ifndef NOMTAG_CORE_FILE_PROJECTOR_H_
#define NOMTAG_CORE_FILE_PROJECTOR_H_

#include <string>

#include "core/file_stamp.h"
#include "core/library.h"
#include "core/status.h"
#include "core/tag_set.h"

namespace nomtag {

// Asked by the projector immediately before the first byte of a commit
// (journal, temporary file or the file itself): OK when the caller may
// still write the file; otherwise the reason, and nothing is written. The
// reconciler's gate asks the store whether the claim still holds.
class CommitGate {
 public:
  virtual ~CommitGate() = default;
  virtual Status MayCommit() = 0;
};

// What a projection did.
struct Projection {
  bool written = false;  // false: the file already held desired
  // The file as the projection left it, read from the descriptor it went
  // through, so the store records nomtag's own write and the next scan
  // does not take it for someone else's. Not known: records nothing.
  FileStamp after;
};

class FileProjector {
 public:
  virtual ~FileProjector() = default;

  // Makes the file's namespace equal desired and fills *out. path is
  // library.root, "/", and the file's path in the library; the file is
  // opened beneath the root, never through a symbolic link. Calls
  // gate.MayCommit() right before committing, and writes nothing when it
  // says no (returning its status). [thread-safe] for distinct files.
  virtual Status Project(const Library& library, const std::string& path,
                         const TagSet& desired, CommitGate& gate,
                         Projection* out) = 0;

  // The namespace on disk, for dry runs.
  virtual Result<TagSet> Read(const std::string& path) = 0;
};

}  // namespace nomtag

#endif  // NOMTAG_CORE_FILE_PROJECTOR_H_
