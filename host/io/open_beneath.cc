#include "io/open_beneath.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "io/posix_file.h"

namespace nomtag {
namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

Status Escapes(const std::string& root, const std::string& rel,
               const std::string& why) {
  return Status::Refused(root + "/" + rel + ": " + why +
                         "; nomtag opens nothing outside a library's root "
                         "and follows no symbolic link inside it");
}

// Tests set NOMTAG_TEST_NO_OPENAT2 to exercise the walk on kernels that
// have openat2.
bool Openat2Disabled() {
  const char* v = std::getenv("NOMTAG_TEST_NO_OPENAT2");
  return v != nullptr && *v != '\0';
}

// -1 with errno ENOSYS when the kernel (or a seccomp filter) has no
// openat2.
int Openat2Beneath(int root_fd, const std::string& rel) {
  if (Openat2Disabled()) {
    errno = ENOSYS;
    return -1;
  }
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = kDirFlags;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(
        ::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how));
  } while (fd < 0 && errno == EAGAIN);
  if (fd < 0 && errno == EPERM) errno = ENOSYS;  // seccomp's answer
  return fd;
}

// The same, one component at a time.
int WalkBeneath(int root_fd, const std::string& rel) {
  int dir = ::fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  if (dir < 0) return -1;
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    std::string part = rel.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      ::close(dir);
      errno = EXDEV;
      return -1;
    }
    int next = ::openat(dir, part.c_str(), kDirFlags | O_NOFOLLOW);
    int e = errno;
    ::close(dir);
    if (next < 0) {
      // O_NOFOLLOW | O_DIRECTORY on a link gives ELOOP or ENOTDIR.
      errno = e;
      return -1;
    }
    dir = next;
  }
  return dir;
}

}  // namespace

void SplitRelativePath(const std::string& rel, std::string* dir,
                       std::string* name) {
  size_t slash = rel.rfind('/');
  if (slash == std::string::npos) {
    dir->clear();
    *name = rel;
  } else {
    *dir = rel.substr(0, slash);
    *name = rel.substr(slash + 1);
  }
}

Result<int> OpenDirectoryBeneath(const std::string& root,
                                 const std::string& rel_dir) {
  if (!rel_dir.empty() && rel_dir[0] == '/')
    return Escapes(root, rel_dir, "an absolute path");
  int root_fd = ::open(root.c_str(), kDirFlags);
  if (root_fd < 0) return ErrnoStatus(root, "open the library root");
  if (rel_dir.empty()) return root_fd;
  int fd = Openat2Beneath(root_fd, rel_dir);
  if (fd < 0 && errno == ENOSYS) fd = WalkBeneath(root_fd, rel_dir);
  int e = errno;
  ::close(root_fd);
  if (fd >= 0) return fd;
  errno = e;
  if (e == ELOOP)
    return Escapes(root, rel_dir, "a folder on the way is a symbolic link");
  if (e == EXDEV) return Escapes(root, rel_dir, "the path leaves the root");
  if (e == ENOTDIR) {
    // The walk's O_NOFOLLOW on a link to a folder also says ENOTDIR.
    return Escapes(root, rel_dir,
                   "a component is not a folder (or is a symbolic link)");
  }
  return ErrnoStatus(root + "/" + rel_dir, "open folder");
}

}  // namespace nomtag
