#include "worker_lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nomtag/cpp/error.hpp>
#include <random>

namespace nomtag::sqlite {
namespace {

std::string Folder(const std::string& database) {
  return database + "-workers";
}

// A worker id names a file: keep it to a safe alphabet.
std::string FileName(const std::string& id) {
  std::string out;
  for (char c : id) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
                c == ':';
    out += safe ? c : '_';
  }
  if (out.empty() || out[0] == '.') out.insert(0, "_");
  return out;
}

// F_OFD_SETLK on the whole file: true when taken (nobody else holds it).
bool TryLock(int fd) {
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  return ::fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::string RandomHex() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

}  // namespace

WorkerLock WorkerLock::Start(const std::string& database) {
  std::string folder = Folder(database);
  if (::mkdir(folder.c_str(), 0777) != 0 && errno != EEXIST)
    throw sdk::Error(NOMTAG_ERR_IO, Errno("cannot make " + folder));
  // Files of workers that died holding no claim are removed here; those
  // holding claims are removed when their claims are taken over.
  if (DIR* dir = ::opendir(folder.c_str())) {
    while (const dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') IsWorkerAlive(database, e->d_name);
    ::closedir(dir);
  }
  char host[128] = {0};
  ::gethostname(host, sizeof host - 1);
  for (int attempt = 0; attempt < 8; ++attempt) {
    WorkerLock w;
    w.id_ = std::string(host) + ":" + std::to_string(::getpid()) + ":" +
            RandomHex();
    w.path_ = folder + "/" + FileName(w.id_);
    // Made under a hidden name and locked before it gets its real one, so
    // that nobody ever sees the real name unlocked.
    std::string temp = folder + "/." + FileName(w.id_) + ".new";
    w.fd_ = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (w.fd_ < 0) {
      if (errno == EEXIST) continue;
      throw sdk::Error(NOMTAG_ERR_IO, Errno("cannot create " + temp));
    }
    if (!TryLock(w.fd_) || ::rename(temp.c_str(), w.path_.c_str()) != 0) {
      ::unlink(temp.c_str());
      continue;  // a sweeper got there first: try another name
    }
    std::string about = "nomtag worker " + w.id_ + "\n";
    if (::write(w.fd_, about.data(), about.size()) < 0) {
      // Only a note for people; the lock is what counts.
    }
    return w;
  }
  throw sdk::Error(NOMTAG_ERR_IO, "cannot take a worker lock in " + folder);
}

WorkerLock::WorkerLock(WorkerLock&& o) noexcept
    : fd_(o.fd_), id_(std::move(o.id_)), path_(std::move(o.path_)) {
  o.fd_ = -1;
}

WorkerLock& WorkerLock::operator=(WorkerLock&& o) noexcept {
  if (this != &o) {
    this->~WorkerLock();
    fd_ = o.fd_;
    id_ = std::move(o.id_);
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

WorkerLock::~WorkerLock() {
  if (fd_ < 0) return;
  // Unlink first: the name must never exist unlocked.
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

bool IsWorkerAlive(const std::string& database, const std::string& id) {
  std::string path = Folder(database) + "/" + FileName(id);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno != ENOENT && errno != ENOTDIR;  // unknown: alive
  bool dead = TryLock(fd);
  if (dead) ::unlink(path.c_str());  // still locked by us: nobody races it
  ::close(fd);
  return !dead;
}

}  // namespace nomtag::sqlite
