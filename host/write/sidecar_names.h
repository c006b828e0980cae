// The names of the files a write leaves beside the one it writes, so that
// any later run recognises them: ".<name>.nomtag-journal" (a rollback
// journal: of that file, or of several files of the folder, named after
// the first, journal.h) and ".<name>.nomtag-tmp-<pid>-<n>" (a copy being
// built).
//
// A name near the 255-byte limit (about 80 CJK characters) leaves no room
// for the suffix: then "<name>" becomes its first bytes (cut on a UTF-8
// boundary), "~" and 16 hex digits of its SHA-256, so the sidecar name
// still fits and still names one file. Recovery finds such a journal's
// file by computing the name for the files in the folder.
#ifndef NOMTAG_WRITE_SIDECAR_NAMES_H_
#define NOMTAG_WRITE_SIDECAR_NAMES_H_

#include <string>

namespace nomtag {

// Names within a folder.
std::string JournalNameFor(const std::string& name);
// A fresh temporary name for this process.
std::string TempNameFor(const std::string& name);
// What every temporary name of name starts with (up to the pid).
std::string TempPrefixFor(const std::string& name);

// Paths beside a file (tests and messages).
std::string JournalPathFor(const std::string& file);
std::string TempPathFor(const std::string& file);

// For a directory entry name: true when it is a journal; *target is the
// name of its file as the journal name says it. A shortened name gives
// "<first bytes>~<hash>", which names no file: then the file is the one
// in the folder whose JournalNameFor is this name.
bool ParseJournalName(const std::string& name, std::string* target);
// True when it is a temporary file; *prefix is what TempPrefixFor gives
// for its file.
bool ParseTempName(const std::string& name, std::string* prefix);

// True when name is exactly one of the names above (a journal, or a
// temporary file ending in "-<pid>-<n>"): what a scan leaves out. Any
// other name, "Song.nomtag-remix.mp3" too, is a file like any other.
bool IsSidecarName(const std::string& name);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SIDECAR_NAMES_H_
