// The tags import format: one JSON object per line,
//   {"path": "Artist/Album/01.flac",
//    "tags": {"mood-strict": "happy", "mood-regular": ["happy", "calm"],
//             "bpm": 120}}
// path relative to the library root (no "..", not absolute); values text,
// numbers (written as their shortest round-trip text) or lists of them.
#ifndef NOMTAG_IMPORTING_TAG_IMPORT_H_
#define NOMTAG_IMPORTING_TAG_IMPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/tag_set.h"

namespace nomtag {

struct ImportedFile {
  std::string path;
  TagSet tags;
};

// Parses one line; InvalidArgument saying what is wrong otherwise.
Result<ImportedFile> ParseTagImportLine(const std::string& line);

// Parses a whole file; the first bad line fails it all, naming
// "<file>:<line>". Blank lines are skipped.
Result<std::vector<ImportedFile>> ParseTagImportFile(const std::string& file);

}  // namespace nomtag

#endif  // NOMTAG_IMPORTING_TAG_IMPORT_H_
