// The names of the files a write leaves beside the one it writes, so that
// any later run recognises them: ".<name>.nomtag-journal" (a rollback
// journal) and ".<name>.nomtag-tmp-<pid>-<n>" (a copy being built).
#ifndef NOMTAG_WRITE_SIDECAR_NAMES_H_
#define NOMTAG_WRITE_SIDECAR_NAMES_H_

#include <string>

namespace nomtag {

std::string JournalPathFor(const std::string& file);
// A fresh temporary name for this process.
std::string TempPathFor(const std::string& file);

// For a directory entry name: when it is a journal or temporary file,
// sets *target to the name of the file it belongs to (and *pid for a
// temporary file) and returns true.
bool ParseJournalName(const std::string& name, std::string* target);
bool ParseTempName(const std::string& name, std::string* target, long* pid);

// True when name is exactly one of the names above (a journal, or a
// temporary file ending in "-<pid>-<n>"): what a scan leaves out. Any
// other name, "Song.nomtag-remix.mp3" too, is a file like any other.
bool IsSidecarName(const std::string& name);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_SIDECAR_NAMES_H_
