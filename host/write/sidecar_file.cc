#include "write/sidecar_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "io/posix_file.h"
#include "io/target_file.h"
#include "write/fault_injection.h"

namespace nomtag {
namespace {

// True when name in dir_fd is the file open as fd.
bool StillNamed(int dir_fd, const std::string& name, int fd) {
  struct stat a, b;
  return ::fstat(fd, &a) == 0 &&
         ::fstatat(dir_fd, name.c_str(), &b, AT_SYMLINK_NOFOLLOW) == 0 &&
         a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

}  // namespace

Result<int> CreateLockedSidecar(int dir_fd, const std::string& name,
                                const std::string& path, const char* what,
                                const char* created) {
  // Recovery removes a sidecar only while it holds the sidecar's lock, so
  // once we hold it the name cannot be taken away; each retry means one
  // recovery ran into our moment, and they are rare.
  for (int attempt = 0; attempt < 5; ++attempt) {
    int fd = ::openat(dir_fd, name.c_str(),
                      O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      if (errno == EEXIST)
        return Status::Conflict(path + ": a " + what +
                                " is already there (another write in "
                                "progress, or one to recover)");
      return ErrnoStatus(path, std::string("create ") + what);
    }
    if (attempt == 0) CrashPoint(created);
    // A recovery that caught the name unlocked holds the lock only while
    // it looks: an empty file, which it removes.
    if (!LockWholeFile(fd, true, TargetFile::LockWaitMs())) {
      Status s = ErrnoStatus(path, std::string("lock the new ") + what);
      if (StillNamed(dir_fd, name, fd)) ::unlinkat(dir_fd, name.c_str(), 0);
      ::close(fd);
      return s;
    }
    if (StillNamed(dir_fd, name, fd)) return fd;
    ::close(fd);  // removed by a recovery: made again
  }
  return Status::Conflict(path + ": the new " + what +
                          " was removed again and again as soon as it was "
                          "made; not written (it will be retried)");
}

}  // namespace nomtag
