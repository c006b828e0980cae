// TargetFile: the one handle a write goes through.
//
// A write opens its file once, at the top, and every step below it —
// build, verify, journal, commit, rollback, recovery — works on this
// handle, never on the path again: the path is kept for messages only.
// The handle carries
//   - the file's descriptor (read-write when the file can be opened so,
//     else read-only), which the commit writes through;
//   - the descriptor of the folder holding it, where sidecar files
//     (journal, temporary copy) are made with openat and the rename
//     happens, and which is fsynced;
//   - the identity read from that descriptor (dev, inode, size, mtime,
//     ctime), which CheckUnchanged compares with fstat of the descriptor
//     and with the name in the folder immediately before a byte is
//     written.
//
// A writer holds the writer's lock: an OFD lock (fcntl F_OFD_SETLK) on the
// whole file, from open to close, so two nomtag writers of one file — two
// processes, two hosts on a network filesystem, or two hard-linked names —
// wait for each other, and recovery (which only ever tries the lock) leaves
// a file alone while its writer lives. OFD locks belong to the open file,
// not the process, so they also keep two threads apart, and the kernel
// drops them when the process dies, however it dies.
//
// Not thread-safe; one handle per write.
#ifndef NOMTAG_IO_TARGET_FILE_H_
#define NOMTAG_IO_TARGET_FILE_H_

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/file_source.h"

namespace nomtag {

class TargetFile {
 public:
  enum class Purpose {
    kRead,   // read-only, no lock (dry runs, tags show)
    kWrite,  // read-write where possible, writer's lock held until closed
  };

  // root/rel, opened beneath the root's descriptor with no symbolic link
  // in any component (open_beneath.h); rel is relative to root. For
  // kWrite, waits up to wait_ms (-1: LockWaitMs()) for another writer;
  // Conflict when it is still writing then, with *busy set when given.
  static Result<std::unique_ptr<TargetFile>> OpenBeneath(
      const std::string& root, const std::string& rel, Purpose purpose,
      int wait_ms = -1, bool* busy = nullptr);

  // A path a user named (tags write FILE): its folder as named, the file
  // itself not a symbolic link. wait_ms and busy as for OpenBeneath.
  static Result<std::unique_ptr<TargetFile>> Open(const std::string& path,
                                                  Purpose purpose,
                                                  int wait_ms = -1,
                                                  bool* busy = nullptr);

  // Opens name in the folder dir_fd (which the handle dups) without
  // waiting for the lock: Conflict at once when a writer holds it.
  // For recovery, which must never wait for a live writer.
  static Result<std::unique_ptr<TargetFile>> OpenInFolderNoWait(
      int dir_fd, const std::string& name, const std::string& path);

  ~TargetFile();  // closes both descriptors, which drops the lock
  TargetFile(const TargetFile&) = delete;
  TargetFile& operator=(const TargetFile&) = delete;

  int fd() const { return source_->fd(); }
  int dir_fd() const { return dir_fd_; }
  const std::string& name() const { return name_; }  // in dir_fd
  const std::string& path() const { return path_; }  // for messages
  bool writable() const { return writable_; }
  const FileIdentity& identity() const { return source_->identity(); }
  FileSource& source() { return *source_; }

  // OK when fstat of the descriptor and lstat of the name in the folder
  // both still give identity() (dev, inode, size, mtime, ctime): nobody
  // wrote, replaced or renamed the file since it was read. Conflict
  // otherwise, saying what changed. *seen (when given and OK): what the
  // fstat found, the file as a write about to start finds it.
  Status CheckUnchanged(FileIdentity* seen = nullptr) const;

  // Re-reads the identity from the descriptor (after recovery rolled the
  // file back through it) and empties the read cache.
  Status Refresh();

  // How long a writer waits for another writer's lock:
  // NOMTAG_LOCK_WAIT_MS, default 30 s.
  static int LockWaitMs();

 private:
  TargetFile(int dir_fd, std::string name, std::string path);
  // Opens name_ in dir_fd_, locks it (waiting up to wait_ms), and makes
  // sure the name still is the locked file.
  Status OpenAndLock(Purpose purpose, int wait_ms, bool* busy = nullptr);

  int dir_fd_;
  std::string name_;
  std::string path_;
  bool writable_ = false;
  std::unique_ptr<FileSource> source_;
};

// Takes an OFD lock on the whole of fd: a write lock when fd is open for
// writing, else a read lock (which still excludes a writer). wait_ms 0
// tries once. True when taken; false with errno EAGAIN when held by
// someone else (also another descriptor of this process).
bool LockWholeFile(int fd, bool exclusive, int wait_ms);

// The indexes of files (nullptr: left out), grouped by the folder each
// handle was opened in, each group in order. A folder is told by its
// device and inode, not by its descriptor: two handles of one folder
// hold two. A file whose folder cannot be stat'ed is in no group; its
// error is (*errors)[i] (errors has files.size() entries).
std::vector<std::vector<size_t>> GroupByFolder(
    const std::vector<const TargetFile*>& files, std::vector<Status>* errors);

}  // namespace nomtag

#endif  // NOMTAG_IO_TARGET_FILE_H_
