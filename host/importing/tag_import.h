// The tags import format: one JSON object per line,
//   {"path": "Artist/Album/01.flac",
//    "tags": {"mood-strict": "happy", "mood-regular": ["happy", "calm"],
//             "bpm": 120}}
// path relative to the library root (no "..", not absolute); values text,
// numbers (written as their shortest round-trip text) or lists of them.
#ifndef NOMTAG_IMPORTING_TAG_IMPORT_H_
#define NOMTAG_IMPORTING_TAG_IMPORT_H_

#include <map>
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

// Checks parsed entries against the library before anything is stored.
// Each path is normalised ("./Al//a.mp3" -> "Al/a.mp3") and must name a
// file the scan recorded (format_by_path: path -> container, from the
// database), once; every value must be storable in that file's container
// (no NUL byte; not empty in a Vorbis comment). Returns InvalidArgument
// saying how many entries are wrong and which (path, key and reason),
// with entries unchanged; on success rewrites each path to its normal
// form.
Status CheckImportAgainstLibrary(
    std::vector<ImportedFile>* entries,
    const std::map<std::string, std::string>& format_by_path);

}  // namespace nomtag

#endif  // NOMTAG_IMPORTING_TAG_IMPORT_H_
