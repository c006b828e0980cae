#include "io/posix_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace nomtag {

Status ErrnoStatus(const std::string& path, const std::string& step) {
  int e = errno;
  std::string msg = path + ": " + step + ": " + std::strerror(e);
  return e == ENOENT ? Status::NotFound(msg) : Status::IoError(msg);
}

Status PWriteAll(int fd, const char* data, uint64_t len, uint64_t offset,
                 const std::string& path, const char* step) {
  uint64_t done = 0;
  while (done < len) {
    ssize_t n = ::pwrite(fd, data + done, len - done, offset + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(path, step);
    }
    done += n;
  }
  return Status::OK();
}

Status FsyncDirectoryOf(const std::string& file) {
  std::filesystem::path parent = std::filesystem::path(file).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(dir, "open directory");
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::OK() : ErrnoStatus(dir, "fsync directory");
}

Status FsyncDirectory(int dir_fd, const std::string& label) {
  return ::fsync(dir_fd) == 0 ? Status::OK()
                              : ErrnoStatus(label, "fsync its folder");
}

Status SetFileTimes(int fd, int64_t atime_ns, int64_t mtime_ns,
                    const std::string& path) {
  // Floor division: a time before 1970 (-1.5 s) is {-2 s, 0.5e9 ns};
  // truncation would give a negative tv_nsec, which futimens refuses.
  auto split = [](int64_t ns) {
    struct timespec t;
    int64_t sec = ns / 1000000000, rem = ns % 1000000000;
    if (rem < 0) {
      rem += 1000000000;
      --sec;
    }
    t.tv_sec = sec;
    t.tv_nsec = rem;
    return t;
  };
  struct timespec times[2] = {split(atime_ns), split(mtime_ns)};
  return ::futimens(fd, times) == 0 ? Status::OK()
                                    : ErrnoStatus(path, "set file times");
}

}  // namespace nomtag
