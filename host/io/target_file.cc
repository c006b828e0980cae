#include "io/target_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "io/open_beneath.h"
#include "io/posix_file.h"

namespace nomtag {
namespace {

constexpr int kOpenFlags = O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;

Status NotRegular(const std::string& path, int e) {
  if (e == ELOOP)
    return Status::InvalidArgument(path +
                                   ": is a symbolic link; nomtag writes only "
                                   "regular files");
  errno = e;
  return ErrnoStatus(path, "open");
}

std::string Describe(const FileIdentity& was, const FileIdentity& now) {
  if (!now.SameFile(was)) return "replaced by another file";
  if (now.size != was.size) return "its size changed";
  if (now.mtime_ns != was.mtime_ns) return "its modification time changed";
  if (now.ctime_ns != was.ctime_ns)
    return "it was written or its attributes changed (ctime)";
  return "changed";
}

}  // namespace

bool LockWholeFile(int fd, bool exclusive, int wait_ms) {
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);
  fl.l_type = exclusive ? F_WRLCK : F_RDLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 0;  // the whole file, however long it gets
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  int pause_ms = 1;
  for (;;) {
    if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) return true;
    if (errno != EAGAIN && errno != EACCES && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) {
      errno = EAGAIN;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    pause_ms = std::min(pause_ms * 2, 50);
  }
}

int TargetFile::LockWaitMs() {
  const char* v = std::getenv("NOMTAG_LOCK_WAIT_MS");
  if (v != nullptr && *v != '\0') return std::atoi(v);
  return 30000;
}

TargetFile::TargetFile(int dir_fd, std::string name, std::string path)
    : dir_fd_(dir_fd), name_(std::move(name)), path_(std::move(path)) {}

TargetFile::~TargetFile() {
  source_.reset();  // closes the file, dropping the lock
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Status TargetFile::OpenAndLock(Purpose purpose, int wait_ms, bool* busy) {
  // A writer that waited for another one may find the name now holds a
  // new file (a copy renamed over it): then it opens that one instead.
  for (int attempt = 0; attempt < 5; ++attempt) {
    int fd = -1;
    writable_ = false;
    if (purpose == Purpose::kWrite) {
      fd = ::openat(dir_fd_, name_.c_str(), O_RDWR | kOpenFlags);
      if (fd >= 0) writable_ = true;
      // A read-only file or mount: it is read (an up-to-date file is no
      // error) and a write is refused later with the reason.
      else if (errno != EACCES && errno != EROFS && errno != ETXTBSY &&
               errno != EPERM)
        return NotRegular(path_, errno);
    }
    if (fd < 0) fd = ::openat(dir_fd_, name_.c_str(), O_RDONLY | kOpenFlags);
    if (fd < 0) return NotRegular(path_, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = ErrnoStatus(path_, "stat");
      ::close(fd);
      return s;
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path_ + ": not a regular file");
    }
    source_ = FileSource::Adopt(fd, path_, IdentityFromStat(st));
    if (purpose == Purpose::kRead) return Status::OK();
    if (!LockWholeFile(fd, writable_, wait_ms)) {
      if (errno == EAGAIN && busy) *busy = true;
      if (errno == EAGAIN)
        return Status::Conflict(path_ +
                                ": another nomtag process is writing it; not "
                                "written (it will be retried)");
      return ErrnoStatus(path_, "lock");
    }
    // Locked: now nobody of ours writes it. What we read from here on is
    // what the identity says.
    if (Status s = Refresh(); !s.ok()) return s;
    struct stat named;
    if (::fstatat(dir_fd_, name_.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        named.st_ino == st.st_ino && named.st_dev == st.st_dev)
      return Status::OK();
    source_.reset();
  }
  return Status::Conflict(path_ +
                          ": keeps being replaced while nomtag waits to "
                          "write it; not written (it will be retried)");
}

Result<std::unique_ptr<TargetFile>> TargetFile::OpenBeneath(
    const std::string& root, const std::string& rel, Purpose purpose,
    int wait_ms, bool* busy) {
  std::string dir, name;
  SplitRelativePath(rel, &dir, &name);
  std::string path =
      root.empty() || root.back() == '/' ? root + rel : root + "/" + rel;
  if (name.empty() || name == "." || name == "..")
    return Status::InvalidArgument(path + ": not a file name");
  auto dir_fd = OpenDirectoryBeneath(root, dir);
  if (!dir_fd.ok()) return dir_fd.status();
  std::unique_ptr<TargetFile> t(new TargetFile(*dir_fd, name, path));
  if (Status s =
          t->OpenAndLock(purpose, wait_ms < 0 ? LockWaitMs() : wait_ms, busy);
      !s.ok())
    return s;
  return t;
}

Result<std::unique_ptr<TargetFile>> TargetFile::Open(const std::string& path,
                                                     Purpose purpose,
                                                     int wait_ms, bool* busy) {
  std::filesystem::path p(path);
  std::string name = p.filename().string();
  std::string dir = p.parent_path().string();
  if (name.empty() || name == "." || name == "..")
    return Status::InvalidArgument(path + ": not a file name");
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(),
                      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoStatus(path, "open its folder");
  std::unique_ptr<TargetFile> t(new TargetFile(dir_fd, name, path));
  if (Status s =
          t->OpenAndLock(purpose, wait_ms < 0 ? LockWaitMs() : wait_ms, busy);
      !s.ok())
    return s;
  return t;
}

Result<std::unique_ptr<TargetFile>> TargetFile::OpenInFolderNoWait(
    int dir_fd, const std::string& name, const std::string& path) {
  int dup = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return ErrnoStatus(path, "dup folder");
  std::unique_ptr<TargetFile> t(new TargetFile(dup, name, path));
  if (Status s = t->OpenAndLock(Purpose::kWrite, 0); !s.ok()) return s;
  return t;
}

Status TargetFile::Refresh() {
  struct stat st;
  if (::fstat(fd(), &st) != 0) return ErrnoStatus(path_, "stat");
  source_->Reset(IdentityFromStat(st));
  return Status::OK();
}

Status TargetFile::CheckUnchanged(FileIdentity* seen) const {
  struct stat st;
  if (::fstat(fd(), &st) != 0) return ErrnoStatus(path_, "stat");
  FileIdentity now = IdentityFromStat(st);
  const FileIdentity& was = identity();
  if (!now.Unchanged(was) || st.st_nlink == 0)
    return Status::Conflict(
        path_ + ": changed on disk since it was read (" +
        (st.st_nlink == 0 ? std::string("removed") : Describe(was, now)) +
        "); not written (it will be retried)");
  struct stat named;
  if (::fstatat(dir_fd_, name_.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0)
    return Status::Conflict(path_ +
                            ": removed or renamed since it was read; not "
                            "written (it will be retried)");
  if (named.st_ino != st.st_ino || named.st_dev != st.st_dev)
    return Status::Conflict(path_ +
                            ": replaced by another file since it was read; "
                            "not written (it will be retried)");
  if (seen) *seen = now;
  return Status::OK();
}

std::vector<std::vector<size_t>> GroupByFolder(
    const std::vector<const TargetFile*>& files, std::vector<Status>* errors) {
  std::map<std::pair<dev_t, ino_t>, std::vector<size_t>> folders;
  for (size_t i = 0; i < files.size(); ++i) {
    if (files[i] == nullptr) continue;
    struct stat st;
    if (::fstat(files[i]->dir_fd(), &st) != 0)
      (*errors)[i] = ErrnoStatus(files[i]->path(), "stat its folder");
    else
      folders[{st.st_dev, st.st_ino}].push_back(i);
  }
  std::vector<std::vector<size_t>> out;
  for (auto& [folder, members] : folders) out.push_back(std::move(members));
  return out;
}

}  // namespace nomtag
