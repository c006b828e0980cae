// Recovery from a write that a killed process left unfinished.
//
// Run before touching a file (tags write, reconcile) or a library (scan,
// `nomtag recover`): a complete journal rolls its file back byte for byte
// when the file is what an interrupted write leaves, goes alone when the
// file already is the new version, and is kept (reported, file untouched)
// when something else wrote the file since (journal_match.h); a torn one
// is discarded (the file was not touched yet), and temporary
// copies of dead processes are removed. Journals and copies of a process
// still running on this machine are left alone.
#ifndef NOMTAG_WRITE_RECOVERY_H_
#define NOMTAG_WRITE_RECOVERY_H_

#include <string>
#include <vector>

#include "core/status.h"

namespace nomtag {

struct RecoveryReport {
  int rolled_back = 0;
  int completed = 0;  // journals of writes that had finished; new kept
  int torn_discarded = 0;
  int temps_removed = 0;
  std::vector<std::string> problems;  // what could not be resolved, and why
  // Journals kept because something else wrote their file since (each
  // also in problems): the user decides, e.g. `recover --keep-as-is`.
  std::vector<std::string> kept_journals;

  // True when anything was rolled back, kept, discarded or removed.
  bool AnythingResolved() const;
  // "2 rolled back, 0 finished writes kept, 1 torn journals discarded, 0
  // temporary files removed", for the commands' reports.
  std::string Summary() const;
};

// Resolves what was left beside one file. Returns a non-OK status when
// something could not be resolved (also listed in report->problems).
Status RecoverFile(const std::string& file, RecoveryReport* report);

// Resolves only a journal left beside file: one stat when there is none,
// so it can run before every write of a large folder (temporary copies
// are left to RecoverTree, run once per scan or reconcile).
Status RecoverJournal(const std::string& file, RecoveryReport* report);

// Resolves everything left anywhere under root (symbolic links are not
// followed).
Status RecoverTree(const std::string& root, RecoveryReport* report);

}  // namespace nomtag

#endif  // NOMTAG_WRITE_RECOVERY_H_
