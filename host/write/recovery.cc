#include "write/recovery.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>

#include "io/file_source.h"
#include "io/tree_walk.h"
#include "write/journal.h"
#include "write/journal_match.h"
#include "write/sidecar_names.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

bool ProcessAlive(long pid) {
  return pid > 0 && pid != ::getpid() &&
         (::kill(pid, 0) == 0 || errno == EPERM);
}

Status Problem(RecoveryReport* report, Status s) {
  report->problems.push_back(s.message());
  return s;
}

Status ResolveJournal(const std::string& file, const std::string& journal_path,
                      RecoveryReport* report) {
  bool torn = false;
  auto journal = ReadJournal(journal_path, &torn);
  if (!journal.ok()) return Problem(report, journal.status());
  if (torn) {
    // Torn means it was never completed, so the file was never touched.
    ::unlink(journal_path.c_str());
    ++report->torn_discarded;
    return Status::OK();
  }
  if (journal->host == HostName() && ProcessAlive(journal->pid))
    return Status::OK();  // a write in progress right now
  auto now = StatPath(file);
  if (!now.ok())
    return Problem(
        report, now.status().Prepend("journal " + journal_path +
                                     " belongs to a file that is gone; kept"));
  if (!now->SameFile(journal->identity))
    return Problem(report, Status::Conflict(file +
                                            ": replaced by another file since "
                                            "the interrupted write; left as "
                                            "it is, journal " +
                                            journal_path + " kept"));
  auto match = MatchJournal(file, *journal);
  if (!match.ok()) return Problem(report, match.status());
  if (*match == JournalMatch::kNewVersion) {
    ::unlink(journal_path.c_str());
    ++report->completed;
    return Status::OK();
  }
  if (*match == JournalMatch::kChanged) {
    report->kept_journals.push_back(journal_path);
    return Problem(report,
                   Status::Conflict(
                       file +
                       ": written by something else since nomtag's write to it "
                       "was interrupted; left as it is. Remove " +
                       journal_path +
                       " once the file is as it should be (or run `nomtag "
                       "recover --keep-as-is`)"));
  }
  if (Status s = RollBack(file, *journal); !s.ok()) return Problem(report, s);
  ::unlink(journal_path.c_str());
  ++report->rolled_back;
  return Status::OK();
}

// Handles one directory entry that may be a journal or a temporary copy.
Status ResolveEntry(const fs::path& dir, const std::string& name,
                    RecoveryReport* report, const std::string& only_target) {
  std::string target;
  long pid = 0;
  if (ParseJournalName(name, &target)) {
    if (!only_target.empty() && target != only_target) return Status::OK();
    return ResolveJournal((dir / target).string(), (dir / name).string(),
                          report);
  }
  if (ParseTempName(name, &target, &pid)) {
    if (!only_target.empty() && target != only_target) return Status::OK();
    if (pid == ::getpid() || ProcessAlive(pid)) return Status::OK();
    std::error_code ec;
    if (fs::remove(dir / name, ec)) ++report->temps_removed;
  }
  return Status::OK();
}

}  // namespace

bool RecoveryReport::AnythingResolved() const {
  return rolled_back > 0 || completed > 0 || torn_discarded > 0 ||
         temps_removed > 0;
}

std::string RecoveryReport::Summary() const {
  return std::to_string(rolled_back) + " rolled back, " +
         std::to_string(completed) + " finished writes kept, " +
         std::to_string(torn_discarded) + " torn journals discarded, " +
         std::to_string(temps_removed) + " temporary files removed";
}

Status RecoverFile(const std::string& file, RecoveryReport* report) {
  fs::path p(file);
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::string name = p.filename().string();
  Status first;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) return Status::OK();  // no directory, nothing left in it
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string entry = it->path().filename().string();
    if (entry.size() < name.size() + 2 || entry[0] != '.' ||
        entry.compare(1, name.size(), name) != 0)
      continue;
    Status s = ResolveEntry(dir, entry, report, name);
    if (first.ok()) first = s;
  }
  return first;
}

Status RecoverJournal(const std::string& file, RecoveryReport* report) {
  const std::string journal = JournalPathFor(file);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(journal, ec))) return Status::OK();
  return ResolveJournal(file, journal, report);
}

Status RecoverTree(const std::string& root, RecoveryReport* report) {
  Status first;
  WalkVisitor visitor;
  visitor.entry = [&](const WalkEntry& e) {
    if (e.kind != WalkEntry::Kind::kFile || e.name[0] != '.') return;
    Status s = ResolveEntry((fs::path(root) / e.rel).parent_path(), e.name,
                            report, "");
    if (first.ok()) first = s;
  };
  visitor.unreadable = [&](const std::string& rel, const std::string& error) {
    Status s = Problem(
        report, Status::IoError((fs::path(root) / rel).string() + ": " + error +
                                "; not checked for interrupted "
                                "writes"));
    if (first.ok()) first = s;
  };
  if (Status s = WalkTree(root, visitor); !s.ok()) return s;
  return first;
}

}  // namespace nomtag
