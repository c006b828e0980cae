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

class FileProjector {
 public:
  virtual ~FileProjector() = default;

  // Makes the file's namespace equal desired; *written says whether the
  // file was rewritten (false when it already held desired).
  // [thread-safe] for distinct files.
  virtual Status Project(const Library& library, const std::string& path,
                         const TagSet& desired, bool* written) = 0;

  // The namespace on disk, for dry runs.
  virtual Result<TagSet> Read(const std::string& path) = 0;

  // The file as it is now (called right after Project succeeded), so the
  // store can record it; an unknown stamp records nothing.
  // [thread-safe] for distinct files.
  virtual FileStamp Stamp(const std::string& /*path*/) { return {}; }
};

}  // namespace nomtag

#endif  // NOMTAG_CORE_FILE_PROJECTOR_H_
