#include "worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace nomtag::external {
namespace {

// Rounded up: poll() never returns before the deadline.
int MsUntil(WorkerProcess::Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(
      deadline - WorkerProcess::Clock::now());
  return int(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

std::string Describe(int status) {
  if (WIFEXITED(status))
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "ended";
}

}  // namespace

WorkerProcess::WorkerProcess(std::vector<std::string> argv,
                             size_t max_line_bytes, size_t stderr_bytes)
    : argv_(std::move(argv)),
      max_line_(max_line_bytes),
      stderr_max_(stderr_bytes) {}

WorkerProcess::~WorkerProcess() { Stop(std::chrono::milliseconds(0)); }

void WorkerProcess::CloseFds() {
  for (int* fd : {&in_, &out_, &err_})
    if (*fd >= 0) ::close(*fd), *fd = -1;
}

std::string WorkerProcess::Start() {
  stderr_.clear();
  pending_.clear();
  // Every descriptor close-on-exec, so that a worker started by another
  // thread never inherits this one's pipes (it would keep them open).
  int in[2], out[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
    return std::string("cannot make a socket: ") + std::strerror(errno);
  if (::pipe2(out, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(in[0]), ::close(in[1]);
    return std::string("cannot make a pipe: ") + std::strerror(e);
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    return std::string("cannot make a pipe: ") + std::strerror(e);
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[1], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // a group of its own
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (auto& a : argv_) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in[1]), ::close(out[1]), ::close(err[1]);
  if (rc != 0) {
    ::close(in[0]), ::close(out[0]), ::close(err[0]);
    return "cannot run " + argv_[0] + ": " + std::strerror(rc);
  }
  pid_ = pid;
  in_ = in[0], out_ = out[0], err_ = err[0];
  for (int fd : {in_, out_, err_})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return "";
}

void WorkerProcess::DrainStderr() {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(err_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0 || errno != EAGAIN) ::close(err_), err_ = -1;
      return;
    }
    stderr_.append(buf, size_t(n));
    if (stderr_.size() > stderr_max_)
      stderr_.erase(0, stderr_.size() - stderr_max_);
  }
}

std::string WorkerProcess::last_stderr_line() const {
  size_t end = stderr_.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t start = stderr_.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = stderr_.substr(start, end + 1 - start);
  if (line.size() > 300) line = line.substr(0, 300) + "…";
  return line;
}

std::string WorkerProcess::Send(std::string_view line,
                                Clock::time_point deadline) {
  while (!line.empty()) {
    ssize_t n = ::send(in_, line.data(), line.size(), MSG_NOSIGNAL);
    if (n > 0) {
      line.remove_prefix(size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN)
      return std::string("cannot write to it: ") + std::strerror(errno);
    // Its input is full: wait for it to read, draining its stderr.
    pollfd fds[2] = {{in_, POLLOUT, 0}, {err_, POLLIN, 0}};
    int rc = ::poll(fds, err_ >= 0 ? 2 : 1, MsUntil(deadline));
    if (rc == 0) return "it did not read its input in time";
    if (rc < 0 && errno != EINTR)
      return std::string("poll: ") + std::strerror(errno);
    if (err_ >= 0 && fds[1].revents) DrainStderr();
  }
  return "";
}

WorkerProcess::Read WorkerProcess::ReadLine(std::string* line,
                                            Clock::time_point deadline) {
  char buf[65536];
  for (;;) {
    size_t nl = pending_.find('\n');
    if (nl != std::string::npos && nl <= max_line_) {
      line->assign(pending_, 0, nl);
      pending_.erase(0, nl + 1);
      return Read::kLine;
    }
    if (pending_.size() > max_line_) return Read::kTooLong;
    if (out_ < 0) return Read::kEnd;
    pollfd fds[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};
    int rc = ::poll(fds, err_ >= 0 ? 2 : 1, MsUntil(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return Read::kTimeout;
    if (err_ >= 0 && fds[1].revents) DrainStderr();
    if (fds[0].revents == 0) continue;
    // Never more than the limit plus one read is held.
    ssize_t n = ::read(out_, buf, std::min(sizeof buf, max_line_ + 1));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      ::close(out_), out_ = -1;
      continue;  // whatever complete line is left is still returned
    }
    pending_.append(buf, size_t(n));
  }
}

std::string WorkerProcess::Stop(std::chrono::milliseconds graceful) {
  if (pid_ <= 0) return "was not running";
  if (in_ >= 0) ::close(in_), in_ = -1;  // EOF: a worker's cue to exit
  // Wait for it to exit by itself without reaping it, so that its pid
  // (and so its group id) stays reserved until the group is killed.
  auto until = Clock::now() + graceful;
  siginfo_t info;
  for (;;) {
    std::memset(&info, 0, sizeof info);
    if (::waitid(P_PID, id_t(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        info.si_pid == pid_ || Clock::now() >= until)
      break;
    if (err_ >= 0) DrainStderr();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(-pid_, SIGKILL);  // the worker and anything it started
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  if (err_ >= 0) DrainStderr();
  pid_ = -1;
  CloseFds();
  return Describe(status);
}

}  // namespace nomtag::external
