// FileStamp: what a file looked like on disk right before and right after
// nomtag wrote it, so that the next scan can tell nomtag's own write from
// someone else's, and an analysis of the bytes just before the write stays
// current after it (a write changes the namespace, never the audio).
#ifndef NOMTAG_CORE_FILE_STAMP_H_
#define NOMTAG_CORE_FILE_STAMP_H_

#include <cstdint>

namespace nomtag {

struct FileStamp {
  bool known = false;  // false: nothing was measured; store nothing
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
};

}  // namespace nomtag

#endif  // NOMTAG_CORE_FILE_STAMP_H_
