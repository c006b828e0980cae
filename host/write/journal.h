// The rollback journal of a write in place.
//
// Before a single byte of a file is overwritten, the journal beside it
// holds the original bytes of every range the write will overwrite, the
// original length and mtime, the file's identity and a checksum, and it is
// fsynced with its directory. It also says where the new bytes go and
// what they hash to. So whatever moment the process dies at:
//   - no journal, or a torn one (bad checksum): the file was not touched
//     yet; the journal is discarded;
//   - a complete journal and a file that already holds every new byte: the
//     write was finished and made durable, only the journal's removal was
//     not (a crash before it, or a power cut that undid an unlink nobody
//     fsynced); the journal is discarded and the new version kept;
//   - any other complete journal: the file may be half-written; rolling
//     back puts every original byte back, restores the length and mtime,
//     and gives the file byte for byte as it was.
// Because of the second case a writer need not fsync the directory after
// removing its journal.
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
  // Where the write puts new bytes, and the SHA-256 of those bytes in
  // order. Empty in journals written before these were recorded (magic
  // NOMTAGJ1): those are always rolled back.
  struct Extent {
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  std::vector<Extent> written;
  std::string written_sha256;
};

// SHA-256 of bytes, raw (32 bytes).
std::string Sha256(const std::string& bytes);

// Writes the journal to path (which must not exist), fsyncs it and its
// directory. On failure nothing is left at path.
Status WriteJournal(const std::string& path, const Journal& journal);

// Reads a journal. *torn is set (and an OK status returned) when the file
// is incomplete or its checksum does not match.
Result<Journal> ReadJournal(const std::string& path, bool* torn);

// True when file already is the new version the journal describes: its
// length is new_length and the bytes at `written` hash to written_sha256.
// False for a J1 journal, which does not say.
Result<bool> HoldsNewVersion(const std::string& file, const Journal& journal);

// Puts the original bytes back into file, restores its length and mtime,
// and fsyncs it. REQUIRES: the journal is complete and belongs to file
// (same device and inode).
Status RollBack(const std::string& file, const Journal& journal);

// This machine's name, to tell our journals from another host's.
std::string HostName();

}  // namespace nomtag

#endif  // NOMTAG_WRITE_JOURNAL_H_
