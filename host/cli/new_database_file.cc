#include "cli/new_database_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace nomtag::cli {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;  // a dangling link exists too
}

}  // namespace

NewDatabaseFile::NewDatabaseFile(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  for (fs::path folder = fs::path(path).parent_path();
       !folder.empty() && !Exists(folder.string());
       folder = folder.parent_path()) {
    folders_.push_back(folder.string());
    if (folder == folder.parent_path()) break;
  }
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    if (!Exists(path + suffix)) companions_.push_back(path + suffix);
  if (!folders_.empty()) {
    // The plugin makes the folders and the file: none of it can have
    // existed before.
    made_ = true;
    return;
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::close(fd);
    made_ = true;
  }
}

std::string NewDatabaseFile::Discard() const {
  if (!made_) return "";
  std::string left;
  auto remove = [&](const std::string& p) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT)
      left +=
          (left.empty() ? "" : ", ") + p + " (" + std::strerror(errno) + ")";
  };
  for (const std::string& c : companions_) remove(c);
  remove(path_);
  for (const std::string& f : folders_)
    if (::rmdir(f.c_str()) != 0) break;  // not empty: someone else's now
  return left;
}

}  // namespace nomtag::cli
