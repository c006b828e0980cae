// Writing a region whose length did not change: only the runs of bytes
// that differ, so a changed value patches a few bytes in place instead of
// the whole tag (which may hold megabytes of pictures).
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_CHANGED_RUNS_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_CHANGED_RUNS_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <vector>

namespace nomtag::plugins {

// old_bytes are the stream's bytes at offset; new_bytes has the same
// length. Runs closer than 64 bytes are merged into one write.
void WriteChangedRuns(const nomtag_stream* stream, uint64_t offset,
                      const std::vector<uint8_t>& old_bytes,
                      const std::vector<uint8_t>& new_bytes);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_CHANGED_RUNS_H_
