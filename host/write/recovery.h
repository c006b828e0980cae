// Recovery from a write that a killed process left unfinished.
//
// Run before touching a file (tags write, every safe write) or a library
// (scan, reconcile, `nomtag recover`). Liveness is a lock, never a guess
// from a pid or a host name: a writer holds OFD locks on its file, its
// journal and its temporary copy for as long as it writes (target_file.h),
// and recovery only ever tries them without waiting. A sidecar whose lock
// is taken belongs to a live writer (on this host, in another container or
// on another NFS client) and is left alone; one whose lock is free has no
// writer, whatever pid it names. A journal may hold entries for several
// files of its folder (journal.h): each entry is judged as below against
// its own file; if any of them has a live writer, the journal is left to
// it; the journal goes when every entry is settled, and is rewritten with
// only the entries left otherwise. Then, for each entry:
//   - a torn journal is discarded (the file was not touched yet);
//   - a complete journal whose file still is the old version (the write
//     never started) is discarded and the file left exactly as it is;
//   - one whose file already is the new version goes alone;
//   - one whose file is what an interrupted write leaves rolls it back
//     byte for byte;
//   - one whose file was replaced, is gone, or was written by something
//     else since is kept and reported (file untouched): the user decides,
//     e.g. with `recover --keep-as-is`, which drops such journals;
//   - an unlocked temporary copy is removed.
// Every file is opened once, through the folder's descriptor, and written
// only through that descriptor after its lock is taken.
#ifndef NOMTAG_WRITE_RECOVERY_H_
#define NOMTAG_WRITE_RECOVERY_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace nomtag {

class TargetFile;

struct RecoveryReport {
  int rolled_back = 0;
  int completed = 0;    // journals of writes that had finished; new kept
  int not_started = 0;  // journals of writes that never began; file as is
  int torn_discarded = 0;
  int temps_removed = 0;
  int busy = 0;  // left alone: a live writer holds them
  // Unresolved journals dropped at the user's word (keep_as_is).
  int dropped_keeping_files = 0;
  std::vector<std::string> problems;  // what could not be resolved, and why
  // Journals kept unresolved (each also in problems): their file was
  // written by something else, replaced, is gone, or the journal cannot
  // be read. `recover --keep-as-is` drops them.
  std::vector<std::string> kept_journals;

  // True when anything was rolled back, kept, discarded or removed.
  bool AnythingResolved() const;
  // "2 rolled back, 0 finished writes kept, 1 torn journals discarded, 0
  // temporary files removed", for the commands' reports.
  std::string Summary() const;
};

struct RecoveryOptions {
  // Drop every unresolved journal and keep its file as it is now (the
  // user has looked at the files). Journals of live writers stay.
  bool keep_as_is = false;
};

// Resolves what was left beside one file. Returns a non-OK status when
// something could not be resolved (also listed in report->problems).
Status RecoverFile(const std::string& file, RecoveryReport* report,
                   const RecoveryOptions& options = {});

// RecoverFile for each of files, listing each folder once (a command
// naming thousands of files in one folder must not list it per file).
// One status per file, in order; report gathers them all.
std::vector<Status> RecoverFiles(const std::vector<std::string>& files,
                                 RecoveryReport* report);

// Resolves only a journal left beside file: one failed open when there is
// none (temporary copies are left to RecoverTree).
Status RecoverJournal(const std::string& file, RecoveryReport* report);

// The same for the files of a group write, before any of them is read:
// every journal in their folders with an entry for one of them (theirs,
// and a group's journal named after another file, journal.h), whose
// handles the caller holds (and so their locks). Lists each folder once.
// One status per target: Conflict when another live writer's journal is
// its own, the problem when its entry could not be resolved (the file is
// then not to be written). (*rolled_back)[i] is set when target i was
// rolled back.
std::vector<Status> RecoverJournalsOf(const std::vector<TargetFile*>& targets,
                                      RecoveryReport* report,
                                      std::vector<char>* rolled_back);

// Resolves everything left anywhere under root (symbolic links are not
// followed; a folder that cannot be read is reported in problems, and the
// walk goes on).
Status RecoverTree(const std::string& root, RecoveryReport* report,
                   const RecoveryOptions& options = {});

}  // namespace nomtag

#endif  // NOMTAG_WRITE_RECOVERY_H_
