#include "io/tree_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace nomtag {
namespace {

std::string Join(const std::string& rel, const std::string& name) {
  return rel.empty() ? name : rel + "/" + name;
}

std::string ErrnoText(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Reads the names in the folder open at fd (consumed), or says why not.
bool ReadNames(int fd, std::vector<std::string>* names, std::string* error) {
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    *error = ErrnoText("opendir");
    ::close(fd);
    return false;
  }
  bool ok = true;
  for (;;) {
    errno = 0;
    struct dirent* d = ::readdir(dir);
    if (!d) {
      if (errno != 0) {
        *error = ErrnoText("readdir");
        ok = false;
      }
      break;
    }
    if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0)
      continue;
    names->emplace_back(d->d_name);
  }
  ::closedir(dir);
  std::sort(names->begin(), names->end());
  return ok;
}

// Walks the folder open at dir_fd (not consumed), known as rel.
void WalkFolder(int dir_fd, const std::string& rel,
                const WalkVisitor& visitor) {
  int list_fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  std::vector<std::string> names;
  std::string error;
  if (list_fd < 0) {
    visitor.unreadable(rel, ErrnoText("open"));
    return;
  }
  if (!ReadNames(list_fd, &names, &error)) visitor.unreadable(rel, error);
  for (const std::string& name : names) {
    const std::string child = Join(rel, name);
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // Gone since it was listed: it is not there, so it was not "unseen".
      if (errno != ENOENT) visitor.unreadable(child, ErrnoText("stat"));
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      int fd = ::openat(dir_fd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) {
        // A folder that vanished after its stat is gone; anything else
        // (no permission, no descriptor left, replaced by a link) is
        // unseen.
        if (errno != ENOENT) visitor.unreadable(child, ErrnoText("open"));
        continue;
      }
      WalkFolder(fd, child, visitor);
      ::close(fd);
      continue;
    }
    WalkEntry entry;
    entry.kind = S_ISREG(st.st_mode)   ? WalkEntry::Kind::kFile
                 : S_ISLNK(st.st_mode) ? WalkEntry::Kind::kSymlink
                                       : WalkEntry::Kind::kOther;
    entry.rel = child;
    entry.name = name;
    entry.identity = IdentityFromStat(st);
    visitor.entry(entry);
  }
}

}  // namespace

bool IsAtOrUnder(const std::string& path, const std::string& rel) {
  if (rel.empty()) return true;
  return path.size() >= rel.size() && path.compare(0, rel.size(), rel) == 0 &&
         (path.size() == rel.size() || path[rel.size()] == '/');
}

Status WalkTree(const std::string& root, const WalkVisitor& visitor) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Status::IoError(root +
                           ": cannot open the folder: " + std::strerror(errno));
  WalkFolder(fd, "", visitor);
  ::close(fd);
  return Status::OK();
}

}  // namespace nomtag
