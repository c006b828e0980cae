// The rollback journal of a write in place.
//
// Before a single byte of a file is overwritten, the journal beside it
// holds the original bytes of every range the write will overwrite, the
// original length and mtime, the file's identity and a checksum, and it is
// durable with its directory entry. It also holds the new bytes and where they
// go. So whatever moment the process dies at (journal_match.h tells the
// cases apart):
//   - no journal, or a torn one (bad checksum): the file was not touched
//     yet; the journal is discarded;
//   - a complete journal and a file that already holds every new byte: the
//     write was finished and made durable, only the journal's removal was
//     not (a crash before it, or a power cut that undid an unlink nobody
//     fsynced); the journal is discarded and the new version kept;
//   - a complete journal and a file whose written ranges hold, byte by
//     byte, old or new bytes: the file may be half-written; rolling back
//     puts every original byte back, restores the length and mtime, and
//     gives the file byte for byte as it was;
//   - anything else means another program wrote the file since: it is
//     left alone and the journal kept, for the user to judge.
// Because of the second case a writer need not fsync the directory after
// removing its journal.
//
// A write that grows a file's tag area in place (a shift, commit.h) has an
// entry with shift_len > 0: the filesystem first inserts shift_len bytes
// at shift_at (fallocate FALLOC_FL_INSERT_RANGE: the blocks after it move,
// no byte is copied), that is made durable, and only then are the new
// bytes written. ext4 and XFS grow the size before they move a single
// block, and move blocks from the end of the file backwards, so a power
// cut in the insert (or in the collapse that undoes it) leaves the old
// bytes with one hole of exactly shift_len bytes somewhere at or after
// shift_at (ShiftGap below): every state is recognised and rolled back.
//
// One journal may cover several files of one folder: a group write
// (safe_write.h) puts the entries of all its writes in place in a folder
// into one journal, named after the first of them, so that a group costs
// one journal creation per folder, not one per file. Each entry is judged
// and settled on its own, as above; the journal goes when every entry is
// settled, and one whose entries are not all settled is rewritten with
// only those left (recovery.h).
//
// The writer holds an OFD lock on its journal (and on the file itself,
// target_file.h) for the whole commit: a journal whose lock is free has no
// live writer, whatever host or container wrote it and whatever process
// now has its pid. The pid and host are kept for messages only.
#ifndef NOMTAG_WRITE_JOURNAL_H_
#define NOMTAG_WRITE_JOURNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/file_source.h"

namespace nomtag {

struct Journal {
  // The file this entry is about, by its name in the journal's folder.
  // Empty: the file the journal's own name says (sidecar_names.h), as in
  // every journal that covers one file.
  std::string file;
  struct Range {
    uint64_t offset = 0;
    std::string original;  // the bytes there before the write
  };
  // ino, size, mtime_ns, atime_ns used. dev is recorded but not compared:
  // it changes across reboots on btrfs subvolumes, NFS, USB and LVM, and
  // the journal sits beside its file anyway.
  FileIdentity identity;
  uint64_t new_length = 0;
  int64_t pid = 0;
  std::string host;
  std::vector<Range> ranges;
  // The new bytes the write puts in, where it puts them (they are small:
  // only what changed). Empty in journals written before these were
  // recorded (magic NOMTAGJ1), which journal_match.h cannot judge.
  struct Extent {
    uint64_t offset = 0;
    std::string bytes;
  };
  std::vector<Extent> written;
  // A shift (commit.h): shift_len (a multiple of kCloneBlock) bytes
  // inserted at shift_at (block-aligned) before `written` goes in. Then
  // `ranges` are offsets in the old file and `written` in the new one;
  // new_length is the old size plus shift_len. 0: a write in place.
  // Recorded in NOMTAGJ4 journals only.
  uint64_t shift_at = 0;
  uint64_t shift_len = 0;
};

// Where the room a shift makes sits in the file now (fd, of size `size`):
// shift_at when the insert was whole (its bytes may be written already,
// in part or all), a later block-aligned offset when the filesystem was
// cut while moving blocks (or while collapsing them back), where one hole
// of exactly shift_len bytes sits; the old size when the file grew but no
// block moved yet (the hole is at its end). Another layout (holes the
// shift cannot have made) is Changed. REQUIRES: size is the old size plus
// shift_len.
Result<uint64_t> ShiftGap(int fd, const Journal& journal, uint64_t size,
                          const std::string& label);

// SHA-256 of bytes, raw (32 bytes).
std::string Sha256(const std::string& bytes);

class TargetFile;

// Creates the journal `name` in the folder dir_fd (it must not exist),
// locks it and writes the entries into it: one entry with an empty
// `file` is written as a journal of one file (NOMTAGJ2), anything else
// with every entry's file named (NOMTAGJ3; no entry's file empty); when
// an entry is a shift, as NOMTAGJ4 (J3 with each entry's shift, and an
// empty name allowed for a journal of one entry). It is not
// yet durable: the caller makes it and the folder durable (sync_barrier.h)
// before touching the file, so that many writes share their syncs. Returns the
// journal's descriptor, still locked: the caller keeps it open until the
// journal is removed, and that lock is what tells recovery the writer lives. On
// failure nothing is left. label names the journal in messages.
Result<int> WriteJournal(int dir_fd, const std::string& name,
                         const std::vector<const Journal*>& entries,
                         const std::string& label);

// The journal's bytes, as WriteJournal writes them (the checksum
// included).
std::string EncodeJournal(const std::vector<const Journal*>& entries);

// Reads a journal's entries from fd (one, with an empty `file`, for a
// NOMTAGJ1 or NOMTAGJ2 journal). *torn is set (and an OK status returned) when
// it is incomplete or its checksum does not match. A read error is an
// IoError, never "torn": a torn journal is deleted, and this may be the
// only copy of the original bytes.
Result<std::vector<Journal>> ReadJournalFrom(int fd, const std::string& label,
                                             bool* torn);
// The same by path (tests, the fuzzer).
Result<std::vector<Journal>> ReadJournal(const std::string& path, bool* torn);

// Puts the original bytes back into target through its descriptor,
// restores its length, fsyncs it, then (best effort, the content being
// durable) its times. A shift's room is taken out first (fallocate
// FALLOC_FL_COLLAPSE_RANGE where ShiftGap finds it, or a truncation). REQUIRES:
// the journal is complete and belongs to target (same inode); target is
// writable and locked.
Status RollBack(TargetFile& target, const Journal& journal);

// This machine's name, recorded in journals for messages.
std::string HostName();

}  // namespace nomtag

#endif  // NOMTAG_WRITE_JOURNAL_H_
