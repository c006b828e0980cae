// The rollback journal of a write in place.
//
// Before a single byte of a file is overwritten, the journal beside it
// holds the original bytes of every range the write will overwrite, the
// original length and mtime, the file's identity and a checksum, and it is
// fsynced with its directory. So whatever moment the process dies at:
//   - no journal, or a torn one (bad checksum): the file was not touched
//     yet; the journal is discarded;
//   - a complete journal: the file may be half-written; rolling back puts
//     every original byte back, restores the length and mtime, and gives
//     the file byte for byte as it was.
#ifndef NOMTAG_WRITE_JOURNAL_H_
#define NOMTAG_WRITE_JOURNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/file_source.h"

namespace nomtag {

struct Journal {
  struct Range {
    uint64_t offset = 0;
    std::string original;  // the bytes there before the write
  };
  FileIdentity identity;  // dev, ino, size, mtime_ns, atime_ns used
  uint64_t new_length = 0;
  int64_t pid = 0;
  std::string host;
  std::vector<Range> ranges;
};

// Writes the journal to path (which must not exist), fsyncs it and its
// directory. On failure nothing is left at path.
Status WriteJournal(const std::string& path, const Journal& journal);

// Reads a journal. *torn is set (and an OK status returned) when the file
// is incomplete or its checksum does not match.
Result<Journal> ReadJournal(const std::string& path, bool* torn);

// Puts the original bytes back into file, restores its length and mtime,
// and fsyncs it. REQUIRES: the journal is complete and belongs to file
// (same device and inode).
Status RollBack(const std::string& file, const Journal& journal);

// This machine's name, to tell our journals from another host's.
std::string HostName();

}  // namespace nomtag

#endif  // NOMTAG_WRITE_JOURNAL_H_
