// The baselines the write benchmark compares nomtag's safe write with.
// Each throws std::runtime_error on failure (a benchmark stops at the
// first broken file rather than report a misleading figure).
#ifndef NOMTAG_BENCH_WRITE_BENCH_BASELINES_H_
#define NOMTAG_BENCH_WRITE_BENCH_BASELINES_H_

#include <string>

#include "core/tag_set.h"

namespace nomtag::bench {

// Copy to a temporary file beside it, fsync, rename, fsync the directory.
void CopyAndRename(const std::string& path);

// TagLib writing the tags into the file in place, without any safety.
void TagLibInPlace(const std::string& path, const TagSet& tags);

}  // namespace nomtag::bench

#endif  // NOMTAG_BENCH_WRITE_BENCH_BASELINES_H_
