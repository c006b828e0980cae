#include "write/commit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "io/posix_file.h"
#include "write/fault_injection.h"
#include "write/journal.h"
#include "write/sidecar_names.h"

namespace nomtag {
namespace {

// Copies [from, from+len) of in to out at to, letting the kernel (or the
// filesystem, or the NAS) do it when it can.
Status CopyRange(int in, uint64_t from, int out, uint64_t to, uint64_t len,
                 const std::string& path) {
  while (len > 0) {
    loff_t off_in = from, off_out = to;
    ssize_t n = ::copy_file_range(in, &off_in, out, &off_out, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // unsupported here: fall back to read + write
    from += n;
    to += n;
    len -= n;
  }
  std::vector<char> buf(1 << 20);
  while (len > 0) {
    ssize_t n =
        ::pread(in, buf.data(), std::min<uint64_t>(len, buf.size()), from);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(path, "read original");
    if (n == 0)
      return Status::IoError(path +
                             ": the original got shorter while it "
                             "was being copied");
    if (Status s = PWriteAll(out, buf.data(), n, to, path, "write copy");
        !s.ok())
      return s;
    from += n;
    to += n;
    len -= n;
  }
  return Status::OK();
}

Status CheckStillTheSame(const std::string& path, const FileSource& source) {
  if (Status s = InjectedFailure("identity", path); !s.ok()) return s;
  auto now = StatPath(path);
  if (!now.ok()) return now.status();
  if (!now->Unchanged(source.identity()))
    return Status::Conflict(path +
                            ": changed on disk since it was read; not "
                            "written (it will be retried)");
  return Status::OK();
}

}  // namespace

Status CommitInPlace(const std::string& path, FileSource& source,
                     const OverlayStream& overlay, const CommitOptions& opts,
                     CommitStats* stats) {
  const FileIdentity& id = source.identity();
  Journal journal;
  journal.identity = id;
  journal.new_length = overlay.length();
  journal.pid = ::getpid();
  journal.host = HostName();
  uint64_t pos = 0;
  for (const auto& p : overlay.pieces()) {
    if (!p.from_base)
      journal.written.push_back(
          {pos, std::string(reinterpret_cast<const char*>(overlay.added(p)),
                            p.length)});
    if (!p.from_base && pos < id.size) {
      Journal::Range r;
      r.offset = pos;
      r.original.resize(std::min<uint64_t>(p.length, id.size - pos));
      size_t got = 0;
      Status s = source.ReadAt(pos, r.original.data(), r.original.size(), &got);
      if (!s.ok()) return s;
      if (got != r.original.size())
        return Status::IoError(path + ": the file got shorter while read");
      stats->bytes_written += r.original.size();
      journal.ranges.push_back(std::move(r));
    }
    pos += p.length;
  }

  if (Status s = CheckStillTheSame(path, source); !s.ok()) return s;
  const std::string journal_path = JournalPathFor(path);
  if (Status s = WriteJournal(journal_path, journal); !s.ok()) return s;
  CrashPoint("after-journal");

  // From here the journal protects the file: any failure rolls it back.
  auto undo = [&](Status why) {
    Status rb = RollBack(path, journal);
    if (!rb.ok())
      return why.Prepend("write failed and rollback failed too (" +
                         rb.message() + "); the journal " + journal_path +
                         " is kept for `nomtag recover`");
    ::unlink(journal_path.c_str());
    return why;
  };
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    Status why = ErrnoStatus(path, "open for writing");
    ::unlink(journal_path.c_str());  // nothing was written
    return why;
  }
  Status s;
  pos = 0;
  int ranges_written = 0;
  for (const auto& p : overlay.pieces()) {
    if (!p.from_base) {
      if (ranges_written == 1) CrashPoint("between-range-writes");
      s = InjectedFailure("patch-write", path);
      if (s.ok())
        s = PWriteAll(fd, overlay.added(p), p.length, pos, path, "write");
      if (!s.ok()) break;
      stats->bytes_written += p.length;
      ++ranges_written;
    }
    pos += p.length;
  }
  if (s.ok() && opts.keep_mtime)
    s = SetFileTimes(fd, id.atime_ns, id.mtime_ns, path);
  if (s.ok()) s = InjectedFailure("patch-fsync", path);
  // The patch keeps the length and the blocks, so fdatasync makes it
  // durable without waiting for a commit of the timestamps.
  if (s.ok() && ::fdatasync(fd) != 0) s = ErrnoStatus(path, "fdatasync");
  ::close(fd);
  if (!s.ok()) return undo(s);
  CrashPoint("before-journal-remove");
  // No directory fsync: if a crash undoes this unlink, recovery finds the
  // file holding the new version and only drops the journal (journal.h).
  if (::unlink(journal_path.c_str()) != 0)
    return ErrnoStatus(journal_path, "remove journal");
  return Status::OK();
}

Status CommitByCopy(const std::string& path, FileSource& source,
                    const OverlayStream& overlay, const CommitOptions& opts,
                    CommitStats* stats) {
  const FileIdentity& id = source.identity();
  const std::string tmp = TempPathFor(path);
  if (Status s = InjectedFailure("temp-create", path); !s.ok()) return s;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(tmp, "create temporary file");
  auto fail = [&](Status why) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return why;
  };

  uint64_t pos = 0;
  for (const auto& p : overlay.pieces()) {
    Status s = InjectedFailure("temp-write", path);
    if (s.ok())
      s = p.from_base
              ? CopyRange(source.fd(), p.base_offset, fd, pos, p.length, path)
              : PWriteAll(fd, overlay.added(p), p.length, pos, tmp,
                          "write temporary file");
    if (!s.ok()) return fail(s);
    pos += p.length;
  }
  stats->bytes_written += pos;
  // The copy takes the original's place: same owner, group and mode.
  if (::fchown(fd, id.uid, id.gid) != 0 &&
      (id.uid != ::geteuid() || ::fchown(fd, -1, id.gid) != 0))
    return fail(ErrnoStatus(path, "keep owner and group on the new copy"));
  if (::fchmod(fd, id.mode & 07777) != 0)
    return fail(ErrnoStatus(path, "keep permissions on the new copy"));
  if (opts.keep_mtime)
    if (Status s = SetFileTimes(fd, id.atime_ns, id.mtime_ns, tmp); !s.ok())
      return fail(s);
  if (Status s = InjectedFailure("temp-fsync", path); !s.ok()) return fail(s);
  if (::fsync(fd) != 0) return fail(ErrnoStatus(tmp, "fsync temporary file"));
  ::close(fd);
  fd = -1;
  CrashPoint("after-temp-written");

  auto drop = [&](Status why) {
    ::unlink(tmp.c_str());
    return why;
  };
  if (Status s = CheckStillTheSame(path, source); !s.ok()) return drop(s);
  if (Status s = InjectedFailure("rename", path); !s.ok()) return drop(s);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return drop(ErrnoStatus(path, "rename the new copy over the original"));
  CrashPoint("after-rename");
  return FsyncDirectoryOf(path);
}

}  // namespace nomtag
