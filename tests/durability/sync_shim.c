// An LD_PRELOAD shim that records, in order, what a process does to the
// files under one folder: every write, truncate, time change, sync, rename
// and unlink, each with the path its descriptor points to (read from
// /proc/self/fd). sync_test.py runs the real nomtag under it and checks that
// each write is made durable in the right order, so deleting any fsync or
// fdatasync from the write path makes a test fail, though the page cache hides
// it from a kill -9.
//
//   NOMTAG_SHIM_LOG=FILE       append one line per event:
//                                <pid> <op> <path>[\t<path2>]
//                              (rename: <from>\t<to>)
//   NOMTAG_SHIM_UNDER=PREFIX   only paths that start with PREFIX
//   NOMTAG_SHIM_EXIT_AT=OP:SUBSTRING:N
//                              _exit(87) just before the Nth OP (write,
//                              truncate, times, fsync, fdatasync, syncfs,
//                              rename, unlink) on a path containing SUBSTRING:
//                              a crash at a moment the program has no hook for
//                              (during a rollback, say)
//   NOMTAG_SHIM_STOP_AT=OP:SUBSTRING:N
//                              the same, but SIGSTOP: a live process
//                              caught at that moment
//   NOMTAG_SHIM_FAIL_AT=times:SUBSTRING:N
//                              the Nth setting of times fails (EPERM), as
//                              on a filesystem that cannot store them
//
// Built without sanitizers; under ASan the test sets
// ASAN_OPTIONS=verify_asan_link_order=0 so the runtime accepts the preload.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define REAL(ret, name, ...)              \
  static ret (*real_##name)(__VA_ARGS__); \
  if (real_##name == NULL)                \
  real_##name = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

// Counts, per process, the events that matched NOMTAG_SHIM_EXIT_AT and
// NOMTAG_SHIM_STOP_AT.
static int exit_count, stop_count, fail_count;

// True when spec ("OP:SUBSTRING:N") names op on path for the Nth time.
static int Matches(const char* spec, const char* op, const char* path,
                   int* count) {
  if (spec == NULL) return 0;
  const char* colon = strchr(spec, ':');
  const char* last = strrchr(spec, ':');
  if (colon == NULL || last == colon) return 0;
  if (strlen(op) != (size_t)(colon - spec) ||
      strncmp(spec, op, colon - spec) != 0)
    return 0;
  char sub[1024];
  snprintf(sub, sizeof sub, "%.*s", (int)(last - colon - 1), colon + 1);
  // Atomic: the writer prepares files on several threads.
  return strstr(path, sub) != NULL &&
         __atomic_add_fetch(count, 1, __ATOMIC_SEQ_CST) == atoi(last + 1);
}

static void FdPath(int fd, char* out, size_t cap) {
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, out, cap - 1);
  out[n < 0 ? 0 : n] = '\0';
}

static void AtPath(int dirfd, const char* path, char* out, size_t cap) {
  if (path[0] == '/') {
    snprintf(out, cap, "%s", path);
    return;
  }
  char dir[4096];
  if (dirfd == AT_FDCWD) {
    if (getcwd(dir, sizeof dir) == NULL) dir[0] = '\0';
  } else {
    FdPath(dirfd, dir, sizeof dir);
  }
  snprintf(out, cap, "%s/%s", dir, path);
}

// Logs op on path (and path2), and ends the process first if the test asked
// for a crash at this event. Returns 1 when the test asked this event to
// fail (NOMTAG_SHIM_FAIL_AT; only the callers that can fail look).
static int Event(const char* op, const char* path, const char* path2) {
  const char* under = getenv("NOMTAG_SHIM_UNDER");
  if (under == NULL || strncmp(path, under, strlen(under)) != 0) return 0;
  const int fail =
      Matches(getenv("NOMTAG_SHIM_FAIL_AT"), op, path, &fail_count);
  if (Matches(getenv("NOMTAG_SHIM_EXIT_AT"), op, path, &exit_count)) _exit(87);
  if (Matches(getenv("NOMTAG_SHIM_STOP_AT"), op, path, &stop_count))
    raise(SIGSTOP);  // the test looks at the files, then sends SIGCONT
  const char* log = getenv("NOMTAG_SHIM_LOG");
  if (log == NULL) return fail;
  char line[9000];
  int n = snprintf(line, sizeof line, "%d %s%s %s%s%s\n", (int)getpid(), op,
                   fail ? "-failed" : "", path, path2 ? "\t" : "",
                   path2 ? path2 : "");
  if (n < 0) return fail;
  if (n >= (int)sizeof line) n = sizeof line - 1;
  // Raw syscalls: the shim's own writes must not come back through it.
  int fd = (int)syscall(SYS_openat, AT_FDCWD, log,
                        O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail;
  syscall(SYS_write, fd, line, (size_t)n);
  syscall(SYS_close, fd);
  return fail;
}

static int FdEvent(const char* op, int fd) {
  if (getenv("NOMTAG_SHIM_UNDER") == NULL) return 0;
  char path[4096];
  FdPath(fd, path, sizeof path);
  return Event(op, path, NULL);
}

ssize_t write(int fd, const void* buf, size_t n) {
  REAL(ssize_t, write, int, const void*, size_t);
  FdEvent("write", fd);
  return real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) {
  REAL(ssize_t, pwrite, int, const void*, size_t, off_t);
  FdEvent("write", fd);
  return real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) {
  REAL(ssize_t, pwrite64, int, const void*, size_t, off_t);
  FdEvent("write", fd);
  return real_pwrite64(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec* iov, int count) {
  REAL(ssize_t, writev, int, const struct iovec*, int);
  FdEvent("write", fd);
  return real_writev(fd, iov, count);
}

ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t off) {
  REAL(ssize_t, pwritev, int, const struct iovec*, int, off_t);
  FdEvent("write", fd);
  return real_pwritev(fd, iov, count, off);
}

ssize_t copy_file_range(int in, loff_t* off_in, int out, loff_t* off_out,
                        size_t len, unsigned flags) {
  REAL(ssize_t, copy_file_range, int, loff_t*, int, loff_t*, size_t, unsigned);
  FdEvent("write", out);
  return real_copy_file_range(in, off_in, out, off_out, len, flags);
}

int ftruncate(int fd, off_t len) {
  REAL(int, ftruncate, int, off_t);
  FdEvent("truncate", fd);
  return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len) {
  REAL(int, ftruncate64, int, off_t);
  FdEvent("truncate", fd);
  return real_ftruncate64(fd, len);
}

// A file's times set (futimens, or utimensat on a descriptor or a path):
// a restored mtime is durable only once a sync follows it.
int futimens(int fd, const struct timespec times[2]) {
  REAL(int, futimens, int, const struct timespec*);
  if (FdEvent("times", fd)) {
    errno = EPERM;
    return -1;
  }
  return real_futimens(fd, times);
}

int utimensat(int dir, const char* path, const struct timespec times[2],
              int flags) {
  REAL(int, utimensat, int, const char*, const struct timespec*, int);
  if (getenv("NOMTAG_SHIM_UNDER") != NULL) {
    char p[4096];
    if (path == NULL)
      FdPath(dir, p, sizeof p);
    else
      AtPath(dir, path, p, sizeof p);
    if (Event("times", p, NULL)) {
      errno = EPERM;
      return -1;
    }
  }
  return real_utimensat(dir, path, times, flags);
}

int fsync(int fd) {
  REAL(int, fsync, int);
  FdEvent("fsync", fd);
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(int, fdatasync, int);
  FdEvent("fdatasync", fd);
  return real_fdatasync(fd);
}

int sync_file_range(int fd, off_t off, off_t n, unsigned flags) {
  REAL(int, sync_file_range, int, off_t, off_t, unsigned);
  FdEvent("sync_file_range", fd);
  return real_sync_file_range(fd, off, n, flags);
}

// Logged as "syncfs" with the path of fd; it makes everything on that
// filesystem durable, which sync_test.py's Events.syncs models.
int syncfs(int fd) {
  REAL(int, syncfs, int);
  FdEvent("syncfs", fd);
  return real_syncfs(fd);
}

static void RenameEvent(int olddir, const char* from, int newdir,
                        const char* to) {
  if (getenv("NOMTAG_SHIM_UNDER") == NULL) return;
  char a[4096], b[4096];
  AtPath(olddir, from, a, sizeof a);
  AtPath(newdir, to, b, sizeof b);
  Event("rename", a, b);
}

int rename(const char* from, const char* to) {
  REAL(int, rename, const char*, const char*);
  RenameEvent(AT_FDCWD, from, AT_FDCWD, to);
  return real_rename(from, to);
}

int renameat(int olddir, const char* from, int newdir, const char* to) {
  REAL(int, renameat, int, const char*, int, const char*);
  RenameEvent(olddir, from, newdir, to);
  return real_renameat(olddir, from, newdir, to);
}

int renameat2(int olddir, const char* from, int newdir, const char* to,
              unsigned flags) {
  REAL(int, renameat2, int, const char*, int, const char*, unsigned);
  RenameEvent(olddir, from, newdir, to);
  return real_renameat2(olddir, from, newdir, to, flags);
}

static void UnlinkEvent(int dir, const char* path) {
  if (getenv("NOMTAG_SHIM_UNDER") == NULL) return;
  char p[4096];
  AtPath(dir, path, p, sizeof p);
  Event("unlink", p, NULL);
}

int unlink(const char* path) {
  REAL(int, unlink, const char*);
  UnlinkEvent(AT_FDCWD, path);
  return real_unlink(path);
}

int unlinkat(int dir, const char* path, int flags) {
  REAL(int, unlinkat, int, const char*, int);
  UnlinkEvent(dir, path);
  return real_unlinkat(dir, path, flags);
}

int remove(const char* path) {
  REAL(int, remove, const char*);
  UnlinkEvent(AT_FDCWD, path);
  return real_remove(path);
}
