#include "write/commit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
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

// Extended attributes (user.*, POSIX ACLs in system.*, security labels)
// of the original onto the copy, so the rename loses none of them.
Status CopyExtendedAttributes(int from, int to, const std::string& path) {
  ssize_t n = ::flistxattr(from, nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP) return Status::OK();  // none can exist here
    return ErrnoStatus(path, "list extended attributes");
  }
  std::vector<char> names(n);
  n = ::flistxattr(from, names.data(), names.size());
  if (n < 0) return ErrnoStatus(path, "list extended attributes");
  for (ssize_t at = 0; at < n;) {
    const std::string name(names.data() + at);
    at += name.size() + 1;
    if (name.empty()) continue;
    ssize_t len = ::fgetxattr(from, name.c_str(), nullptr, 0);
    if (len < 0) {
      if (errno == ENODATA) continue;  // removed meanwhile
      return ErrnoStatus(path, "read extended attribute " + name);
    }
    std::vector<char> value(len);
    len = ::fgetxattr(from, name.c_str(), value.data(), value.size());
    if (len < 0) return ErrnoStatus(path, "read extended attribute " + name);
    value.resize(len);
    if (Status s = InjectedFailure("xattr-copy", path); !s.ok()) return s;
    if (::fsetxattr(to, name.c_str(), value.data(), value.size(), 0) == 0)
      continue;
    int e = errno;
    // A label the new file got anyway (SELinux gives one on creation).
    std::vector<char> have(value.size() + 1);
    ssize_t got = ::fgetxattr(to, name.c_str(), have.data(), have.size());
    if (got == len && std::equal(value.begin(), value.end(), have.begin()))
      continue;
    errno = e;
    return Status::Refused(
        path + ": a copy here cannot keep the extended attribute '" + name +
        "' (" + std::strerror(e) + "); not written");
  }
  return Status::OK();
}

}  // namespace

Status CommitInPlace(TargetFile& target, const OverlayStream& overlay,
                     const CommitOptions& opts, CommitStats* stats) {
  const std::string& path = target.path();
  const FileIdentity id = target.identity();
  if (!target.writable())
    return Status::Refused(path +
                           ": cannot be opened for writing; not written");
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
      Status s = target.source().ReadAt(pos, r.original.data(),
                                        r.original.size(), &got);
      if (!s.ok()) return s;
      if (got != r.original.size())
        return Status::IoError(path + ": the file got shorter while read");
      stats->bytes_written += r.original.size();
      journal.ranges.push_back(std::move(r));
    }
    pos += p.length;
  }

  if (Status s = InjectedFailure("identity", path); !s.ok()) return s;
  if (Status s = target.CheckUnchanged(); !s.ok()) return s;
  const std::string journal_name = JournalNameFor(target.name());
  const std::string journal_path = JournalPathFor(path);
  auto journal_fd =
      WriteJournal(target.dir_fd(), journal_name, journal, journal_path);
  if (!journal_fd.ok()) return journal_fd.status();
  CrashPoint("after-journal");
  // The journal's lock goes when this descriptor is closed: after the
  // journal is removed, or by the kernel when the process dies.
  struct JournalLock {
    int fd;
    ~JournalLock() { ::close(fd); }
  } journal_lock{*journal_fd};
  auto drop_journal = [&] {
    return ::unlinkat(target.dir_fd(), journal_name.c_str(), 0) == 0;
  };

  // Immediately before the first byte: the descriptor we write through
  // still is the file we read, and still has its name.
  // Then the claim: last, so no step of ours runs between it and the byte.
  Status s = InjectedFailure("patch-identity", path);
  if (s.ok()) s = target.CheckUnchanged();
  if (s.ok() && opts.gate) s = opts.gate();
  if (!s.ok()) {
    drop_journal();  // nothing was written
    return s;
  }
  // From here the journal protects the file: any failure rolls it back.
  auto undo = [&](Status why) {
    Status rb = RollBack(target, journal);
    if (!rb.ok())
      return why.Prepend("write failed and rollback failed too (" +
                         rb.message() + "); the journal " + journal_path +
                         " is kept for `nomtag recover`");
    drop_journal();
    return why;
  };
  const int fd = target.fd();
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
  // fsync, not fdatasync: the file may have grown at its end, and the new
  // size, mtime and ctime must be as durable as the bytes.
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus(path, "fsync");
  if (!s.ok()) return undo(s);
  if (struct stat st; ::fstat(fd, &st) == 0)
    stats->after = IdentityFromStat(st);
  CrashPoint("before-journal-remove");
  // No folder fsync: if a crash undoes this unlink, recovery finds the
  // file holding the new version and only drops the journal (journal.h).
  // The new version is durable: a journal that cannot be removed is a
  // warning, not a failed write.
  Status removed = InjectedFailure("journal-remove", path);
  if (removed.ok() && !drop_journal())
    removed = ErrnoStatus(journal_path, "remove journal");
  if (!removed.ok())
    stats->warnings.push_back(
        removed.message() +
        " (the file holds the new version; the next run drops the journal)");
  return Status::OK();
}

Status CommitByCopy(TargetFile& target, const OverlayStream& overlay,
                    const CommitOptions& opts, CommitStats* stats) {
  const std::string& path = target.path();
  const FileIdentity id = target.identity();
  const int dir = target.dir_fd();
  const std::string tmp_name = TempNameFor(target.name());
  const std::string tmp =
      (std::filesystem::path(path).parent_path() / tmp_name).string();
  if (Status s = InjectedFailure("temp-create", path); !s.ok()) return s;
  int fd = ::openat(dir, tmp_name.c_str(),
                    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus(tmp, "create temporary file");
  auto fail = [&](Status why) {
    ::unlinkat(dir, tmp_name.c_str(), 0);
    if (fd >= 0) ::close(fd);
    return why;
  };
  // Held until the rename or the unlink: a temporary file whose lock is
  // free has no live writer.
  if (!LockWholeFile(fd, true, 0))
    return fail(ErrnoStatus(tmp, "lock temporary file"));

  uint64_t pos = 0;
  for (const auto& p : overlay.pieces()) {
    Status s = InjectedFailure("temp-write", path);
    if (s.ok())
      s = p.from_base
              ? CopyRange(target.fd(), p.base_offset, fd, pos, p.length, path)
              : PWriteAll(fd, overlay.added(p), p.length, pos, tmp,
                          "write temporary file");
    if (!s.ok()) return fail(s);
    pos += p.length;
  }
  stats->bytes_written += pos;
  // The copy takes the original's place: same owner, group, mode and
  // extended attributes.
  if (::fchown(fd, id.uid, id.gid) != 0 &&
      (id.uid != ::geteuid() || ::fchown(fd, -1, id.gid) != 0))
    return fail(ErrnoStatus(path, "keep owner and group on the new copy"));
  if (::fchmod(fd, id.mode & 07777) != 0)
    return fail(ErrnoStatus(path, "keep permissions on the new copy"));
  if (Status s = CopyExtendedAttributes(target.fd(), fd, path); !s.ok())
    return fail(s);
  if (opts.keep_mtime)
    if (Status s = SetFileTimes(fd, id.atime_ns, id.mtime_ns, tmp); !s.ok())
      return fail(s);
  if (Status s = InjectedFailure("temp-fsync", path); !s.ok()) return fail(s);
  if (::fsync(fd) != 0) return fail(ErrnoStatus(tmp, "fsync temporary file"));
  CrashPoint("after-temp-written");
  // Size and mtime are final here; the rename below changes neither.
  if (struct stat st; ::fstat(fd, &st) == 0)
    stats->after = IdentityFromStat(st);

  if (Status s = InjectedFailure("identity", path); !s.ok()) return fail(s);
  if (Status s = target.CheckUnchanged(); !s.ok()) return fail(s);
  if (opts.gate)
    if (Status s = opts.gate(); !s.ok()) return fail(s);
  if (Status s = InjectedFailure("rename", path); !s.ok()) return fail(s);
  if (::renameat(dir, tmp_name.c_str(), dir, target.name().c_str()) != 0)
    return fail(ErrnoStatus(path, "rename the new copy over the original"));
  ::close(fd);  // drops the temporary file's lock: it has a real name now
  fd = -1;
  CrashPoint("after-rename");
  // The new version is in place; if the folder cannot be fsynced the
  // rename may not survive a power cut, which leaves the old file (never
  // a broken one): a warning, not a failed write.
  Status synced = InjectedFailure("dir-fsync", path);
  if (synced.ok()) synced = FsyncDirectory(dir, path);
  if (!synced.ok())
    stats->warnings.push_back(synced.message() +
                              " (the file holds the new version, but a power "
                              "cut may bring the old one back)");
  return Status::OK();
}

}  // namespace nomtag
