// FileProjector: how reconciliation reads and writes a file's namespace,
// without knowing formats, overlays or journals (the safe write does).
#ifndef NOMTAG_CORE_FILE_PROJECTOR_H_
#define NOMTAG_CORE_FILE_PROJECTOR_H_

#include <cstddef>
#include <string>
#include <vector>

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
  // The file as the write found it, checked immediately before its first
  // byte (known only when written). An analysis made at exactly this size
  // and mtime stays current: the write changed only the namespace.
  FileStamp before;
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

  // One file of ProjectMany.
  struct Item {
    std::string path;  // as for Project
    TagSet desired;
    CommitGate* gate = nullptr;
  };

  // Projects every item as Project would, one status and one Projection
  // per item, in order; a projector that can share the cost of making
  // writes durable across files (group commit) does. A failing item never
  // stops the others. At most GroupLimit() items. [thread-safe] for
  // distinct files.
  virtual std::vector<Status> ProjectMany(const Library& library,
                                          const std::vector<Item>& items,
                                          std::vector<Projection>* out) {
    std::vector<Status> statuses;
    out->assign(items.size(), Projection{});
    for (size_t i = 0; i < items.size(); ++i)
      statuses.push_back(Project(library, items[i].path, items[i].desired,
                                 *items[i].gate, &(*out)[i]));
    return statuses;
  }
  // How many files ProjectMany takes at once.
  virtual size_t GroupLimit() const { return 1; }

  // The namespace on disk, for dry runs.
  virtual Result<TagSet> Read(const std::string& path) = 0;
};

}  // namespace nomtag

#endif  // NOMTAG_CORE_FILE_PROJECTOR_H_
