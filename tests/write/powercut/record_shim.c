/* An LD_PRELOAD shim that records, for files under $NOMTAG_PC_DIR, every
 * operation that changes what a disk would hold after a power cut:
 * creations, writes, truncations, the room a shift inserts (and a
 * rollback collapses), renames, unlinks, and the syncs that
 * make them durable (fsync, fdatasync, and fsync of a folder). The log
 * ($NOMTAG_PC_LOG) is replayed by powercut_test.py, which cuts it at
 * random points the way SQLite's crash tests do. Subfolders are watched
 * too (a library's root and its database side by side); a folder's sync
 * names the folder, since it makes only that folder's names durable.
 *
 * Each record is one text line, "OP ARGS\n"; WRITE is followed by its
 * bytes. Inodes are the real st_ino; names are relative to the folder.
 * copy_file_range is refused (ENOSYS) so that copies go through pwrite
 * and are recorded. Only single-threaded writers are supported (nomtag's
 * tags write is). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static FILE* log_file;
/* Recursive: the log's own writes come back through the wrappers. */
static pthread_mutex_t op_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static const char* watched;
static size_t watched_len;

static void init(void) {
  if (watched != NULL) return;
  watched = getenv("NOMTAG_PC_DIR");
  const char* log_path = getenv("NOMTAG_PC_LOG");
  if (watched == NULL || log_path == NULL) {
    watched = "";
    return;
  }
  watched_len = strlen(watched);
  int (*real_open)(const char*, int, ...) = dlsym(RTLD_NEXT, "open");
  int fd = real_open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  log_file = fdopen(fd, "a");
}

/* The path of fd, or of name relative to dirfd; 0 when not watched. On
 * success *rel points into buf, at the name relative to the folder. */
static int resolve(int dirfd, const char* name, char* buf, const char** rel) {
  init();
  if (log_file == NULL) return 0;
  char dir[PATH_MAX];
  if (name != NULL && name[0] == '/') {
    snprintf(buf, PATH_MAX, "%s", name);
  } else {
    if (dirfd == AT_FDCWD) {
      if (getcwd(dir, sizeof dir) == NULL) return 0;
    } else {
      char link[64];
      snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
      ssize_t n = readlink(link, dir, sizeof dir - 1);
      if (n < 0) return 0;
      dir[n] = 0;
    }
    int n = name == NULL || name[0] == 0
                ? snprintf(buf, PATH_MAX, "%s", dir)
                : snprintf(buf, PATH_MAX, "%s/%s", dir, name);
    if (n < 0 || n >= PATH_MAX) return 0; /* too long to be ours */
  }
  if (strncmp(buf, watched, watched_len) != 0) return 0;
  if (buf[watched_len] == 0) {
    *rel = ".";
    return 1;
  }
  if (buf[watched_len] != '/') return 0;
  *rel = buf + watched_len + 1;
  return 1;
}

static unsigned long long fd_ino(int fd, int* is_dir) {
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  if (is_dir) *is_dir = S_ISDIR(st.st_mode);
  return (unsigned long long)st.st_ino;
}

static void record(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(log_file, fmt, ap);
  va_end(ap);
  fflush(log_file);
}

#define REAL(name, type)                \
  static __typeof__(&name) real_##name; \
  if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

static int do_openat(int dirfd, const char* path, int flags, mode_t mode) {
  REAL(openat, int (*)(int, const char*, int, ...));
  pthread_mutex_lock(&op_lock);
  char buf[PATH_MAX];
  const char* rel;
  int watched_path = resolve(dirfd, path, buf, &rel);
  struct stat st;
  int existed =
      watched_path && fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
  int fd = real_openat(dirfd, path, flags, mode);
  if (fd >= 0 && watched_path) {
    int is_dir = 0;
    unsigned long long ino = fd_ino(fd, &is_dir);
    if (!is_dir && !existed && (flags & O_CREAT))
      record("CREATE %llu %s\n", ino, rel);
    else if (!is_dir && existed && (flags & O_TRUNC))
      record("TRUNC %llu 0\n", ino);
  }
  pthread_mutex_unlock(&op_lock);
  return fd;
}

int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return do_openat(AT_FDCWD, path, flags, mode);
}
int open64(const char* path, int flags, ...) __attribute__((alias("open")));

int openat(int dirfd, const char* path, int flags, ...) {
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    va_end(ap);
  }
  return do_openat(dirfd, path, flags, mode);
}
int openat64(int dirfd, const char* path, int flags, ...)
    __attribute__((alias("openat")));

static void record_write(int fd, const void* data, size_t n, off_t off) {
  char buf[PATH_MAX];
  const char* rel;
  if (!resolve(fd, NULL, buf, &rel)) return;
  record("WRITE %llu %lld %zu\n", fd_ino(fd, NULL), (long long)off, n);
  fwrite(data, 1, n, log_file);
  fflush(log_file);
}

ssize_t pwrite(int fd, const void* data, size_t n, off_t off) {
  REAL(pwrite, ssize_t(*)(int, const void*, size_t, off_t));
  pthread_mutex_lock(&op_lock);
  ssize_t done = real_pwrite(fd, data, n, off);
  if (done > 0) record_write(fd, data, done, off);
  pthread_mutex_unlock(&op_lock);
  return done;
}
ssize_t pwrite64(int fd, const void* data, size_t n, off_t off)
    __attribute__((alias("pwrite")));

ssize_t write(int fd, const void* data, size_t n) {
  REAL(write, ssize_t(*)(int, const void*, size_t));
  pthread_mutex_lock(&op_lock);
  off_t off = lseek(fd, 0, SEEK_CUR);
  ssize_t done = real_write(fd, data, n);
  if (done > 0 && off >= 0) record_write(fd, data, done, off);
  pthread_mutex_unlock(&op_lock);
  return done;
}

int ftruncate(int fd, off_t len) {
  REAL(ftruncate, int (*)(int, off_t));
  pthread_mutex_lock(&op_lock);
  int rc = real_ftruncate(fd, len);
  char buf[PATH_MAX];
  const char* rel;
  if (rc == 0 && resolve(fd, NULL, buf, &rel))
    record("TRUNC %llu %lld\n", fd_ino(fd, NULL), (long long)len);
  pthread_mutex_unlock(&op_lock);
  return rc;
}
int ftruncate64(int fd, off_t len) __attribute__((alias("ftruncate")));

/* A shift's room (FALLOC_FL_INSERT_RANGE) and a rollback's collapse: the
 * blocks after the offset move. Other modes change no byte a reader sees
 * and are not recorded; none is refused. */
int fallocate(int fd, int mode, off_t off, off_t len) {
  REAL(fallocate, int (*)(int, int, off_t, off_t));
  pthread_mutex_lock(&op_lock);
  int rc = real_fallocate(fd, mode, off, len);
  char buf[PATH_MAX];
  const char* rel;
  const char* op = (mode & 0x20)   ? "INSERT"   /* FALLOC_FL_INSERT_RANGE */
                   : (mode & 0x08) ? "COLLAPSE" /* FALLOC_FL_COLLAPSE_RANGE */
                                   : NULL;
  if (rc == 0 && op != NULL && resolve(fd, NULL, buf, &rel))
    record("%s %llu %lld %lld\n", op, fd_ino(fd, NULL), (long long)off,
           (long long)len);
  pthread_mutex_unlock(&op_lock);
  return rc;
}
int fallocate64(int fd, int mode, off_t off, off_t len)
    __attribute__((alias("fallocate")));

static void record_sync(int fd, const char* op) {
  char buf[PATH_MAX];
  const char* rel;
  if (!resolve(fd, NULL, buf, &rel)) return;
  int is_dir = 0;
  unsigned long long ino = fd_ino(fd, &is_dir);
  if (is_dir)
    record("DIRSYNC %s\n", rel);
  else
    record("%s %llu\n", op, ino);
}

int fsync(int fd) {
  REAL(fsync, int (*)(int));
  pthread_mutex_lock(&op_lock);
  int rc = real_fsync(fd);
  if (rc == 0) record_sync(fd, "FSYNC");
  pthread_mutex_unlock(&op_lock);
  return rc;
}

int fdatasync(int fd) {
  REAL(fdatasync, int (*)(int));
  pthread_mutex_lock(&op_lock);
  int rc = real_fdatasync(fd);
  if (rc == 0) record_sync(fd, "FDATASYNC");
  pthread_mutex_unlock(&op_lock);
  return rc;
}

// A whole-filesystem sync: everything before it is durable (the test's
// folder is on one filesystem).
int syncfs(int fd) {
  REAL(syncfs, int (*)(int));
  pthread_mutex_lock(&op_lock);
  int rc = real_syncfs(fd);
  char buf[PATH_MAX];
  const char* rel;
  if (rc == 0 && resolve(fd, NULL, buf, &rel)) record("SYNCFS\n");
  pthread_mutex_unlock(&op_lock);
  return rc;
}

static int do_renameat(int olddir, const char* from, int newdir, const char* to,
                       unsigned flags) {
  REAL(renameat2, int (*)(int, const char*, int, const char*, unsigned));
  pthread_mutex_lock(&op_lock);
  char a[PATH_MAX], b[PATH_MAX];
  const char *ra, *rb;
  int wa = resolve(olddir, from, a, &ra), wb = resolve(newdir, to, b, &rb);
  int rc = real_renameat2(olddir, from, newdir, to, flags);
  if (rc == 0 && wa && wb) record("RENAME %s\n%s\n", ra, rb);
  pthread_mutex_unlock(&op_lock);
  return rc;
}
int rename(const char* from, const char* to) {
  return do_renameat(AT_FDCWD, from, AT_FDCWD, to, 0);
}
int renameat(int olddir, const char* from, int newdir, const char* to) {
  return do_renameat(olddir, from, newdir, to, 0);
}
int renameat2(int olddir, const char* from, int newdir, const char* to,
              unsigned flags) {
  return do_renameat(olddir, from, newdir, to, flags);
}

static int do_unlinkat(int dirfd, const char* path, int flags) {
  REAL(unlinkat, int (*)(int, const char*, int));
  pthread_mutex_lock(&op_lock);
  char buf[PATH_MAX];
  const char* rel;
  int w = resolve(dirfd, path, buf, &rel);
  int rc = real_unlinkat(dirfd, path, flags);
  if (rc == 0 && w && !(flags & AT_REMOVEDIR)) record("UNLINK %s\n", rel);
  pthread_mutex_unlock(&op_lock);
  return rc;
}
int unlink(const char* path) { return do_unlinkat(AT_FDCWD, path, 0); }
int unlinkat(int dirfd, const char* path, int flags) {
  return do_unlinkat(dirfd, path, flags);
}

/* Copies must go through pwrite to be recorded. */
ssize_t copy_file_range(int in, loff_t* off_in, int out, loff_t* off_out,
                        size_t len, unsigned flags) {
  (void)in, (void)off_in, (void)out, (void)off_out, (void)len, (void)flags;
  errno = ENOSYS;
  return -1;
}
