#include "write/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "io/posix_file.h"
#include "io/target_file.h"
#include "write/journal.h"
#include "write/journal_match.h"
#include "write/sidecar_names.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

// The names in a folder (".", ".." left out). An error is returned, not
// taken for the end of the folder.
Status ListFolder(int dir_fd, const std::string& label,
                  std::vector<std::pair<std::string, unsigned char>>* out) {
  int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return ErrnoStatus(label, "open folder");
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return ErrnoStatus(label, "open folder");
  }
  for (;;) {
    errno = 0;
    struct dirent* e = ::readdir(d);
    if (e == nullptr) {
      int err = errno;
      ::closedir(d);
      if (err == 0) return Status::OK();
      errno = err;
      return ErrnoStatus(label, "read folder");
    }
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    out->emplace_back(name, e->d_type);
  }
}

// A sidecar file, opened and locked without waiting. *busy when a live
// writer holds it; fd -1 and OK when it is gone.
struct Sidecar {
  int fd = -1;
  ~Sidecar() {
    if (fd >= 0) ::close(fd);
  }
};

Status OpenSidecar(int dir_fd, const std::string& name,
                   const std::string& label, Sidecar* out, bool* busy) {
  *busy = false;
  bool writable = true;
  int fd = ::openat(dir_fd, name.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && (errno == EACCES || errno == EROFS)) {
    writable = false;
    fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) {
    if (errno == ENOENT) return Status::OK();
    return ErrnoStatus(label, "open");
  }
  out->fd = fd;
  if (!LockWholeFile(fd, writable, 0)) {
    if (errno == EAGAIN) {
      *busy = true;
      return Status::OK();
    }
    return ErrnoStatus(label, "lock");
  }
  return Status::OK();
}

// Removes name from the folder if it still is the file open as fd.
bool RemoveIfSame(int dir_fd, const std::string& name, int fd) {
  struct stat a, b;
  if (::fstat(fd, &a) != 0 ||
      ::fstatat(dir_fd, name.c_str(), &b, AT_SYMLINK_NOFOLLOW) != 0 ||
      a.st_ino != b.st_ino || a.st_dev != b.st_dev)
    return false;
  return ::unlinkat(dir_fd, name.c_str(), 0) == 0;
}

struct Folder {
  int fd;
  std::string label;  // its path, for messages
};

// Files whose handles the caller holds (locked), by name in the folder.
using HeldFiles = std::map<std::string, TargetFile*>;

class Resolver {
 public:
  Resolver(RecoveryReport* report, const RecoveryOptions& options)
      : report_(report), options_(options) {}

  // The journal `journal_name` in folder. named_file: the file its name
  // says (empty: found from the name), the file of an entry that does
  // not name one. held: files the caller holds, used as they are. focus:
  // when not empty, a journal with no entry for one of these files is
  // left alone, and the status returned is the first problem of their
  // entries (else of any entry).
  // per_file, when given, gets the problem of each entry's file.
  Status Journal(const Folder& folder, const std::string& journal_name,
                 const std::string& named_file, const HeldFiles& held,
                 const std::set<std::string>& focus,
                 std::map<std::string, Status>* per_file = nullptr);

  // A temporary copy: removed unless its writer lives.
  Status Temp(const Folder& folder, const std::string& name);

  // The files rolled back, by name in their folder (the last folder's).
  std::set<std::string>& rolled_back() { return rolled_back_; }

 private:
  enum class Outcome { kSettled, kUnresolved };
  // One entry of a journal against its file.
  Outcome Settle(TargetFile& target, const struct Journal& entry,
                 const std::string& journal_path, Status* why);
  // Journals nomtag cannot resolve on its own: kept (with only the
  // entries left, when others were settled) and reported, or dropped
  // when the user said so.
  Status Unresolved(const Folder& folder, const std::string& journal_name,
                    int journal_fd, Status why) {
    const std::string path = Join(folder.label, journal_name);
    if (options_.keep_as_is && journal_fd >= 0 &&
        RemoveIfSame(folder.fd, journal_name, journal_fd)) {
      ++report_->dropped_keeping_files;
      return Status::OK();
    }
    report_->kept_journals.push_back(path);
    report_->problems.push_back(why.message());
    return why;
  }

  RecoveryReport* report_;
  RecoveryOptions options_;
  std::set<std::string> rolled_back_;
};

// The file whose (shortened) journal name is journal_name, or "".
std::string FindLongName(int dir_fd, const std::string& label,
                         const std::string& journal_name) {
  std::vector<std::pair<std::string, unsigned char>> names;
  if (!ListFolder(dir_fd, label, &names).ok()) return "";
  for (const auto& [name, type] : names)
    if (JournalNameFor(name) == journal_name && name[0] != '.') return name;
  for (const auto& [name, type] : names)
    if (JournalNameFor(name) == journal_name &&
        name.find(".nomtag-") == std::string::npos)
      return name;
  return "";
}

Resolver::Outcome Resolver::Settle(TargetFile& target,
                                   const struct Journal& entry,
                                   const std::string& journal_path,
                                   Status* why) {
  const std::string& file = target.path();
  // Only the inode: the device number of one file changes across reboots
  // on btrfs subvolumes, NFS, USB and LVM, and the journal sits beside it.
  if (target.identity().ino != entry.identity.ino) {
    *why = Status::Conflict(file +
                            ": replaced by another file since the "
                            "interrupted write; left as it is, journal " +
                            journal_path + " kept");
    return Outcome::kUnresolved;
  }
  auto match = MatchJournal(target.source(), entry);
  if (!match.ok()) {
    *why = match.status();
    return Outcome::kUnresolved;
  }
  switch (*match) {
    case JournalMatch::kNewVersion:
      ++report_->completed;
      return Outcome::kSettled;
    case JournalMatch::kOldVersion:
      ++report_->not_started;
      return Outcome::kSettled;
    case JournalMatch::kChanged:
      *why = Status::Conflict(
          file +
          ": written by something else since nomtag's write to it "
          "was interrupted; left as it is. Remove " +
          journal_path +
          " once the file is as it should be (or run `nomtag "
          "recover --keep-as-is`)");
      return Outcome::kUnresolved;
    case JournalMatch::kInterrupted:
    case JournalMatch::kUnknown:
      break;
  }
  if (Status s = RollBack(target, entry); !s.ok()) {
    *why = s;
    return Outcome::kUnresolved;
  }
  ++report_->rolled_back;
  rolled_back_.insert(target.name());
  return Outcome::kSettled;
}

// Replaces the journal `name` in folder (still the file open as fd) by
// one holding only entries: written beside it, made durable, renamed over
// it, the folder made durable. On failure the journal is as it was.
Status RewriteJournal(const Folder& folder, const std::string& name, int fd,
                      const std::vector<const struct Journal*>& entries) {
  const std::string path = Join(folder.label, name);
  const std::string tmp = TempNameFor(name);
  auto made = WriteJournal(folder.fd, tmp, entries, Join(folder.label, tmp));
  if (!made.ok()) return made.status();
  Status s;
  if (::fsync(*made) != 0) s = ErrnoStatus(path, "fsync rewritten journal");
  struct stat a, b;
  if (s.ok() &&
      (::fstat(fd, &a) != 0 ||
       ::fstatat(folder.fd, name.c_str(), &b, AT_SYMLINK_NOFOLLOW) != 0 ||
       a.st_ino != b.st_ino))
    s = Status::Conflict(path + ": replaced while it was being rewritten");
  if (s.ok() &&
      ::renameat(folder.fd, tmp.c_str(), folder.fd, name.c_str()) != 0)
    s = ErrnoStatus(path, "rename rewritten journal");
  if (!s.ok()) ::unlinkat(folder.fd, tmp.c_str(), 0);
  ::close(*made);
  if (s.ok()) s = FsyncDirectory(folder.fd, folder.label);
  return s;
}

Status Resolver::Journal(const Folder& folder, const std::string& journal_name,
                         const std::string& named_file, const HeldFiles& held,
                         const std::set<std::string>& focus,
                         std::map<std::string, Status>* per_file) {
  const std::string journal_path = Join(folder.label, journal_name);
  // A journal that cannot be read may hold an entry for any file of the
  // folder: none of those the caller holds is written meanwhile.
  auto unreadable = [&](Status why) {
    auto of = [&](const std::string& f) {
      if (f == named_file) return why;
      const std::string file =
          held.count(f) ? held.at(f)->path() : Join(folder.label, f);
      return Status::Conflict(file + ": not written: the journal " +
                              journal_path +
                              " in its folder cannot be read, and may hold "
                              "an interrupted write of it (" +
                              why.message() + ")");
    };
    if (per_file != nullptr)
      for (const std::string& f : focus) (*per_file)[f] = of(f);
    Status kept = Unresolved(folder, journal_name, -1, why);
    if (kept.ok() || focus.empty() || focus.count(named_file)) return kept;
    return of(*focus.begin());
  };
  Sidecar jf;
  bool busy = false;
  if (Status s = OpenSidecar(folder.fd, journal_name, journal_path, &jf, &busy);
      !s.ok())
    return unreadable(s);
  if (jf.fd < 0) return Status::OK();  // gone meanwhile
  if (busy) {
    ++report_->busy;  // a write in progress right now
    // Its own file held by the caller: another process's writer of the
    // same file (a hard link under another name holds the lock apart).
    if (!named_file.empty() && held.count(named_file)) {
      Status s = Status::Conflict(held.at(named_file)->path() +
                                  ": another nomtag process is writing it; "
                                  "not written (it will be retried)");
      if (per_file != nullptr) (*per_file)[named_file] = s;
      return s;
    }
    return Status::OK();
  }
  bool torn = false;
  auto entries = ReadJournalFrom(jf.fd, journal_path, &torn);
  if (!entries.ok()) return unreadable(entries.status());
  if (torn) {
    // Torn means it was never completed, so no file was touched.
    if (RemoveIfSame(folder.fd, journal_name, jf.fd)) ++report_->torn_discarded;
    return Status::OK();
  }
  // The file of each entry.
  std::vector<std::string> files;
  bool in_focus = focus.empty();
  for (const struct Journal& e : *entries) {
    std::string name = e.file;
    if (name.empty()) {
      name = named_file;
      struct stat st;
      if (name.empty() ||
          (!held.count(name) &&
           ::fstatat(folder.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0))
        name = FindLongName(folder.fd, folder.label, journal_name);
    }
    in_focus = in_focus || focus.count(name) > 0 ||
               (e.file.empty() && focus.count(named_file) > 0);
    files.push_back(std::move(name));
  }
  if (!in_focus) return Status::OK();

  // Every entry's file locked first: one whose writer lives leaves the
  // whole journal to that writer (it resolves it under its own lock).
  std::vector<std::unique_ptr<TargetFile>> opened(files.size());
  std::vector<TargetFile*> targets(files.size(), nullptr);
  std::vector<Status> problems(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i].empty()) {
      problems[i] = Status::NotFound("journal " + journal_path +
                                     " belongs to a file that is gone; kept");
      continue;
    }
    if (auto h = held.find(files[i]); h != held.end()) {
      targets[i] = h->second;
      continue;
    }
    auto t = TargetFile::OpenInFolderNoWait(folder.fd, files[i],
                                            Join(folder.label, files[i]));
    if (t.ok()) {
      opened[i] = std::move(*t);
      targets[i] = opened[i].get();
    } else if (t.status().code() == Status::Code::kConflict) {
      ++report_->busy;  // its writer lives
      return Status::OK();
    } else if (t.status().code() == Status::Code::kNotFound) {
      problems[i] = Status::NotFound("journal " + journal_path +
                                     " belongs to a file that is gone (" +
                                     files[i] + "); kept");
    } else {
      problems[i] = t.status().Prepend("journal " + journal_path + " kept: ");
    }
  }
  // The entries left unsettled, each naming its file.
  std::vector<struct Journal> left;
  bool all_named = true;
  Status first, first_in_focus;
  for (size_t i = 0; i < files.size(); ++i) {
    if (problems[i].ok() && Settle(*targets[i], (*entries)[i], journal_path,
                                   &problems[i]) == Outcome::kSettled)
      continue;
    left.push_back((*entries)[i]);
    left.back().file = files[i];
    all_named = all_named && !files[i].empty();
    if (first.ok()) first = problems[i];
    if (first_in_focus.ok() && focus.count(files[i]))
      first_in_focus = problems[i];
  }
  if (left.empty()) {
    RemoveIfSame(folder.fd, journal_name, jf.fd);
    return Status::OK();
  }
  // Only those stay (a settled entry, kept, would be taken for a conflict
  // the next time its file is written).
  if (left.size() < entries->size() && all_named && !options_.keep_as_is) {
    std::vector<const struct Journal*> kept;
    for (const struct Journal& e : left) kept.push_back(&e);
    (void)RewriteJournal(folder, journal_name, jf.fd, kept);
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (problems[i].ok()) continue;
    if (per_file != nullptr) (*per_file)[files[i]] = problems[i];
    if (problems[i].message() != first.message())
      report_->problems.push_back(problems[i].message());
  }
  Status why = Unresolved(folder, journal_name, jf.fd, first);
  if (!why.ok() && !focus.empty()) return first_in_focus;
  return why;
}

Status Resolver::Temp(const Folder& folder, const std::string& name) {
  Sidecar tf;
  bool busy = false;
  const std::string path = Join(folder.label, name);
  if (Status s = OpenSidecar(folder.fd, name, path, &tf, &busy); !s.ok()) {
    report_->problems.push_back(s.message());
    return s;
  }
  if (tf.fd < 0) return Status::OK();
  if (busy) {
    ++report_->busy;
    return Status::OK();
  }
  if (RemoveIfSame(folder.fd, name, tf.fd)) ++report_->temps_removed;
  return Status::OK();
}

// A cheap first look at a folder entry: only such names can be a
// journal or a temporary file (sidecar_names.h says which exactly).
bool MayBeSidecar(const std::string& name) {
  return name[0] == '.' && name.find(".nomtag-") != std::string::npos;
}

// Resolves the sidecars among names in folder (only those that concern
// `only`, a file name, when not empty: its temporary copies, and the
// journals with an entry for it).
Status ResolveFolder(
    Resolver& resolver, const Folder& folder,
    const std::vector<std::pair<std::string, unsigned char>>& names,
    const std::string& only) {
  Status first;
  const std::string only_journal = only.empty() ? "" : JournalNameFor(only);
  const std::string only_temp = only.empty() ? "" : TempPrefixFor(only);
  std::set<std::string> focus;
  if (!only.empty()) focus.insert(only);
  for (const auto& [name, type] : names) {
    if (!MayBeSidecar(name)) continue;
    std::string target, prefix;
    Status s;
    if (ParseJournalName(name, &target)) {
      s = resolver.Journal(folder, name, name == only_journal ? only : target,
                           {}, focus);
    } else if (ParseTempName(name, &prefix)) {
      if (!only.empty() && prefix != only_temp) continue;
      s = resolver.Temp(folder, name);
    }
    if (first.ok()) first = s;
  }
  return first;
}

Result<Folder> OpenParent(const std::string& file, std::string* name) {
  fs::path p(file);
  *name = p.filename().string();
  std::string dir = p.parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(),
                  O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(dir.empty() ? "." : dir, "open folder");
  return Folder{fd, dir};
}

}  // namespace

bool RecoveryReport::AnythingResolved() const {
  return rolled_back > 0 || completed > 0 || not_started > 0 ||
         torn_discarded > 0 || temps_removed > 0 || dropped_keeping_files > 0;
}

std::string RecoveryReport::Summary() const {
  std::string s = std::to_string(rolled_back) + " rolled back, " +
                  std::to_string(completed) + " finished writes kept, " +
                  std::to_string(torn_discarded) +
                  " torn journals discarded, " + std::to_string(temps_removed) +
                  " temporary files removed";
  if (not_started > 0)
    s += ", " + std::to_string(not_started) +
         " journals of writes that never started dropped";
  if (busy > 0)
    s += ", " + std::to_string(busy) + " left to writers still running";
  return s;
}

Status RecoverFile(const std::string& file, RecoveryReport* report,
                   const RecoveryOptions& options) {
  std::string name;
  auto folder = OpenParent(file, &name);
  if (!folder.ok()) return Status::OK();  // no folder, nothing left in it
  std::vector<std::pair<std::string, unsigned char>> names;
  Status s = ListFolder(folder->fd, folder->label, &names);
  Resolver resolver(report, options);
  if (s.ok()) s = ResolveFolder(resolver, *folder, names, name);
  ::close(folder->fd);
  return s;
}

std::vector<Status> RecoverFiles(const std::vector<std::string>& files,
                                 RecoveryReport* report) {
  std::vector<Status> out(files.size());
  // The files of each folder, in the order given.
  std::map<std::string, std::vector<size_t>> by_folder;
  for (size_t i = 0; i < files.size(); ++i)
    by_folder[fs::path(files[i]).parent_path().string()].push_back(i);
  Resolver resolver(report, {});
  for (const auto& [dir, members] : by_folder) {
    std::string name;
    auto folder = OpenParent(files[members.front()], &name);
    if (!folder.ok()) continue;  // no folder, nothing left in it
    std::vector<std::pair<std::string, unsigned char>> names;
    Status listed = ListFolder(folder->fd, folder->label, &names);
    // Sidecars only: in a folder without leftovers, each file costs
    // nothing more.
    std::erase_if(names,
                  [](const auto& entry) { return !MayBeSidecar(entry.first); });
    for (size_t i : members) {
      if (!listed.ok()) {
        out[i] = listed;
        continue;
      }
      if (names.empty()) continue;
      out[i] = ResolveFolder(resolver, *folder, names,
                             fs::path(files[i]).filename().string());
    }
    ::close(folder->fd);
  }
  return out;
}

Status RecoverJournal(const std::string& file, RecoveryReport* report) {
  std::string name;
  auto folder = OpenParent(file, &name);
  if (!folder.ok()) return Status::OK();
  Resolver resolver(report, {});
  Status s = resolver.Journal(*folder, JournalNameFor(name), name, {}, {});
  ::close(folder->fd);
  return s;
}

std::vector<Status> RecoverJournalsOf(const std::vector<TargetFile*>& targets,
                                      RecoveryReport* report,
                                      std::vector<char>* rolled_back) {
  std::vector<Status> out(targets.size());
  rolled_back->assign(targets.size(), 0);
  const std::vector<const TargetFile*> files(targets.begin(), targets.end());
  for (const std::vector<size_t>& members : GroupByFolder(files, &out)) {
    const TargetFile& first = *targets[members.front()];
    Folder folder{first.dir_fd(),
                  fs::path(first.path()).parent_path().string()};
    std::vector<std::pair<std::string, unsigned char>> names;
    if (Status s = ListFolder(folder.fd, folder.label, &names); !s.ok()) {
      for (size_t i : members) out[i] = s;
      continue;
    }
    HeldFiles held;
    std::set<std::string> focus;
    std::map<std::string, std::string> by_journal;  // journal name -> file
    for (size_t i : members) {
      held[targets[i]->name()] = targets[i];
      focus.insert(targets[i]->name());
      by_journal[JournalNameFor(targets[i]->name())] = targets[i]->name();
    }
    Resolver resolver(report, {});
    std::map<std::string, Status> problems;
    for (const auto& [name, type] : names) {
      std::string target;
      if (!MayBeSidecar(name) || !ParseJournalName(name, &target)) continue;
      if (auto it = by_journal.find(name); it != by_journal.end())
        target = it->second;  // a shortened name, too
      (void)resolver.Journal(folder, name, target, held, focus, &problems);
    }
    for (size_t i : members) {
      const std::string& name = targets[i]->name();
      if (auto p = problems.find(name); p != problems.end()) out[i] = p->second;
      (*rolled_back)[i] = resolver.rolled_back().count(name) > 0;
    }
  }
  return out;
}

Status RecoverTree(const std::string& root, RecoveryReport* report,
                   const RecoveryOptions& options) {
  int root_fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return ErrnoStatus(root, "open folder");
  Resolver resolver(report, options);
  Status first;
  std::vector<Folder> stack{{root_fd, root}};
  while (!stack.empty()) {
    Folder folder = stack.back();
    stack.pop_back();
    std::vector<std::pair<std::string, unsigned char>> names;
    Status s = ListFolder(folder.fd, folder.label, &names);
    if (!s.ok()) {
      // Reported, and the walk goes on: one unreadable folder must not
      // hide what is left in the others.
      report->problems.push_back(s.message());
      if (first.ok()) first = s;
    } else {
      s = ResolveFolder(resolver, folder, names, "");
      if (first.ok()) first = s;
      for (const auto& [name, type] : names) {
        if (type != DT_DIR && type != DT_UNKNOWN) continue;
        int sub = ::openat(folder.fd, name.c_str(),
                           O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sub >= 0) {
          stack.push_back({sub, Join(folder.label, name)});
        } else if (errno != ENOTDIR && errno != ELOOP) {
          Status e = ErrnoStatus(Join(folder.label, name), "open folder");
          report->problems.push_back(e.message());
          if (first.ok()) first = e;
        }
      }
    }
    ::close(folder.fd);
  }
  return first;
}

}  // namespace nomtag
