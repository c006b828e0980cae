// Walks a relative path from the root's descriptor, never through a link.
#include "server/inside_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace nomtag::server {

Result<std::string> FileInsideRoot(const std::string& root,
                                   const std::string& relative) {
  if (relative.empty()) return Status::InvalidArgument("the path is empty");
  if (relative.find('\0') != std::string::npos)
    return Status::InvalidArgument("the path holds a NUL byte");
  if (relative[0] == '/')
    return Status::Refused(
        "absolute paths are refused: give the path "
        "relative to the library root");
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= relative.size()) {
    size_t slash = relative.find('/', start);
    if (slash == std::string::npos) slash = relative.size();
    std::string part = relative.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..")
      return Status::Refused(
          "the path may not hold empty, '.' or '..' "
          "components");
    parts.push_back(std::move(part));
    start = slash + 1;
  }
  int dir = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return Status::NotFound(root + ": " + std::strerror(errno));
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    int next = ::openat(dir, parts[i].c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(dir);
    if (next < 0) {
      if (err == ELOOP || err == ENOTDIR)
        return Status::Refused(
            "the path goes through a symbolic link or "
            "a non-folder");
      return Status::NotFound("no such file in the library");
    }
    dir = next;
  }
  struct stat st;
  const int r = ::fstatat(dir, parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW);
  ::close(dir);
  if (r != 0) return Status::NotFound("no such file in the library");
  if (S_ISLNK(st.st_mode))
    return Status::Refused("the path names a symbolic link");
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument("the path does not name a regular file");
  return root + "/" + relative;
}

}  // namespace nomtag::server
