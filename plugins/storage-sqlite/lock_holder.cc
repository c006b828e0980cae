#include "lock_holder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>

namespace nomtag::sqlite {
namespace {

// The pid holding a conflicting lock on len bytes at offset of path, or 0.
pid_t Holder(const std::string& path, off_t offset, off_t len) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = offset;
  fl.l_len = len;
  pid_t pid = 0;
  if (::fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) pid = fl.l_pid;
  ::close(fd);
  return pid;
}

std::string CommandLine(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline",
                   std::ios::binary);
  std::string cmd((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
  for (char& c : cmd)
    if (c == '\0') c = ' ';
  if (cmd.size() > 120) cmd = cmd.substr(0, 117) + "...";
  return cmd;
}

}  // namespace

std::string BusyMessage(const std::string& database, int64_t waited_ms) {
  // WAL: the writer lock is byte 120 of the -shm file. Rollback journal:
  // the RESERVED/PENDING/SHARED bytes from 1 GiB on in the database file.
  pid_t pid = Holder(database + "-shm", 120, 1);
  if (pid == 0) pid = Holder(database, 0x40000000, 512 + 2);
  std::string who = "another process";
  if (pid > 0) {
    who = "process " + std::to_string(pid);
    std::string cmd = CommandLine(pid);
    if (!cmd.empty()) who += " (" + cmd + ")";
  }
  char waited[32];
  std::snprintf(waited, sizeof waited, "%g", waited_ms / 1000.0);
  return "the database " + database + " is locked by " + who +
         "; gave up after " + waited +
         " s (--wait SECONDS sets how long to wait)";
}

}  // namespace nomtag::sqlite
