#include "write/recovery.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>

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

class Resolver {
 public:
  Resolver(RecoveryReport* report, const RecoveryOptions& options)
      : report_(report), options_(options) {}

  // The journal `journal_name` in folder, of the file `target_name`
  // (empty: find it by its journal name). target, when given, is that
  // file's handle, held and locked by the caller.
  Status Journal(const Folder& folder, const std::string& journal_name,
                 std::string target_name, TargetFile* target);

  // A temporary copy: removed unless its writer lives.
  Status Temp(const Folder& folder, const std::string& name);

 private:
  // A journal nomtag cannot resolve on its own: kept and reported, or
  // dropped when the user said so.
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

Status Resolver::Journal(const Folder& folder, const std::string& journal_name,
                         std::string target_name, TargetFile* target) {
  const std::string journal_path = Join(folder.label, journal_name);
  Sidecar jf;
  bool busy = false;
  if (Status s = OpenSidecar(folder.fd, journal_name, journal_path, &jf, &busy);
      !s.ok())
    return Unresolved(folder, journal_name, -1, s);
  if (jf.fd < 0) return Status::OK();  // gone meanwhile
  if (busy) {
    ++report_->busy;  // a write in progress right now
    if (target != nullptr)
      return Status::Conflict(target->path() +
                              ": another nomtag process is writing it; not "
                              "written (it will be retried)");
    return Status::OK();
  }
  bool torn = false;
  auto journal = ReadJournalFrom(jf.fd, journal_path, &torn);
  if (!journal.ok())
    return Unresolved(folder, journal_name, -1, journal.status());
  if (torn) {
    // Torn means it was never completed, so the file was never touched.
    if (RemoveIfSame(folder.fd, journal_name, jf.fd)) ++report_->torn_discarded;
    return Status::OK();
  }

  std::unique_ptr<TargetFile> opened;
  if (target == nullptr) {
    struct stat st;
    if (target_name.empty() || ::fstatat(folder.fd, target_name.c_str(), &st,
                                         AT_SYMLINK_NOFOLLOW) != 0)
      target_name = FindLongName(folder.fd, folder.label, journal_name);
    if (target_name.empty())
      return Unresolved(
          folder, journal_name, jf.fd,
          Status::NotFound("journal " + journal_path +
                           " belongs to a file that is gone; kept"));
    auto t = TargetFile::OpenInFolderNoWait(folder.fd, target_name,
                                            Join(folder.label, target_name));
    if (!t.ok()) {
      if (t.status().code() == Status::Code::kConflict) {
        ++report_->busy;  // its writer lives
        return Status::OK();
      }
      return Unresolved(
          folder, journal_name, jf.fd,
          t.status().Prepend("journal " + journal_path + " kept: "));
    }
    opened = std::move(*t);
    target = opened.get();
  }
  const std::string& file = target->path();
  // Only the inode: the device number of one file changes across reboots
  // on btrfs subvolumes, NFS, USB and LVM, and the journal sits beside it.
  if (target->identity().ino != journal->identity.ino)
    return Unresolved(folder, journal_name, jf.fd,
                      Status::Conflict(file +
                                       ": replaced by another file since the "
                                       "interrupted write; left as it is, "
                                       "journal " +
                                       journal_path + " kept"));
  auto match = MatchJournal(target->source(), *journal);
  if (!match.ok())
    return Unresolved(folder, journal_name, jf.fd, match.status());
  switch (*match) {
    case JournalMatch::kNewVersion:
      if (RemoveIfSame(folder.fd, journal_name, jf.fd)) ++report_->completed;
      return Status::OK();
    case JournalMatch::kOldVersion:
      if (RemoveIfSame(folder.fd, journal_name, jf.fd)) ++report_->not_started;
      return Status::OK();
    case JournalMatch::kChanged:
      return Unresolved(
          folder, journal_name, jf.fd,
          Status::Conflict(
              file +
              ": written by something else since nomtag's write to it "
              "was interrupted; left as it is. Remove " +
              journal_path +
              " once the file is as it should be (or run `nomtag "
              "recover --keep-as-is`)"));
    case JournalMatch::kInterrupted:
    case JournalMatch::kUnknown:
      break;
  }
  if (Status s = RollBack(*target, *journal); !s.ok())
    return Unresolved(folder, journal_name, jf.fd, s);
  RemoveIfSame(folder.fd, journal_name, jf.fd);
  ++report_->rolled_back;
  return Status::OK();
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

// Resolves the sidecars among names in folder (only those of `only`, a
// file name, when not empty).
Status ResolveFolder(
    Resolver& resolver, const Folder& folder,
    const std::vector<std::pair<std::string, unsigned char>>& names,
    const std::string& only) {
  Status first;
  const std::string only_journal = only.empty() ? "" : JournalNameFor(only);
  const std::string only_temp = only.empty() ? "" : TempPrefixFor(only);
  for (const auto& [name, type] : names) {
    if (!MayBeSidecar(name)) continue;
    std::string target, prefix;
    Status s;
    if (ParseJournalName(name, &target)) {
      if (!only.empty() && name != only_journal) continue;
      s = resolver.Journal(folder, name, only.empty() ? target : only, nullptr);
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
  Status s = resolver.Journal(*folder, JournalNameFor(name), name, nullptr);
  ::close(folder->fd);
  return s;
}

Status RecoverJournalOf(TargetFile& target, RecoveryReport* report) {
  const std::string journal = JournalNameFor(target.name());
  struct stat st;
  if (::fstatat(target.dir_fd(), journal.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
      0)
    return Status::OK();  // the usual case: one failed stat
  Folder folder{target.dir_fd(),
                fs::path(target.path()).parent_path().string()};
  Resolver resolver(report, {});
  return resolver.Journal(folder, journal, target.name(), &target);
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
