// What a file is, as far as its leftover journal can tell.
//
// A journal outlives its write when the process dies, and also when a
// power cut undoes the unlink that removed it after the write finished
// (nomtag does not fsync the directory after that unlink). Before anything
// is rolled back, the file is compared with the journal: only a file that
// is what an interrupted write of ours leaves is rolled back, so a later
// write by another program is never undone.
#ifndef NOMTAG_WRITE_JOURNAL_MATCH_H_
#define NOMTAG_WRITE_JOURNAL_MATCH_H_

#include <string>

#include "core/status.h"
#include "io/file_source.h"
#include "write/journal.h"

namespace nomtag {

enum class JournalMatch {
  // The new length, and every new byte in place: the write finished.
  kNewVersion,
  // The old length, and every byte the write would put in still its old
  // byte: the write never started (the process died after the journal).
  // Nothing to undo: the journal goes and the file, its mtime included,
  // is left exactly as it is.
  kOldVersion,
  // A length between the old and the new one, and every byte the write
  // puts in is either its old or its new byte: the write was cut short.
  kInterrupted,
  // Neither: something else has written the file since.
  kChanged,
  // A NOMTAGJ1 journal, which does not record the new bytes.
  kUnknown,
};

// Compares file (already known to be the journal's inode) with the
// journal. Reads only the bytes the journal names (and, for a shift,
// where the file's holes are).
//
// A shift (journal.h) is judged by the file's size and where its room
// sits (ShiftGap): the old size and every new-bytes range old: not
// started; the new size, the room whole and every new byte in place:
// finished; otherwise each byte the write or an interrupted rollback may
// have put there must be its old byte or its new one, wherever the
// blocks were when the power went: interrupted. The bytes after the
// journal's ranges (the audio) are the old file's moved blocks, and are
// not compared.
Result<JournalMatch> MatchJournal(FileSource& file, const Journal& journal);
// The same by path (the fuzzer).
Result<JournalMatch> MatchJournal(const std::string& file,
                                  const Journal& journal);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_JOURNAL_MATCH_H_
