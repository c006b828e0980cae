#include "write/commit.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "io/byte_source.h"
#include "io/posix_file.h"
#include "write/fault_injection.h"
#include "write/journal.h"
#include "write/sidecar_file.h"
#include "write/sidecar_names.h"

namespace nomtag {
namespace {

// Copies [from, from+len) of in to out at to, letting the kernel (or the
// filesystem, or the NAS) do it when it can.
Status CopyBytes(int in, uint64_t from, int out, uint64_t to, uint64_t len,
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

// The same, in two calls when the range sits at the same offset within a
// block in both files but does not start on a block boundary: the bytes
// up to the boundary, then the rest from one boundary to another, which a
// filesystem that shares extents (XFS, Btrfs, ZFS) clones instead of
// copying (it clones only from a block boundary).
Status CopyRange(int in, uint64_t from, int out, uint64_t to, uint64_t len,
                 const std::string& path) {
  const uint64_t head = (kCloneBlock - from % kCloneBlock) % kCloneBlock;
  if (from % kCloneBlock == to % kCloneBlock && head > 0 && head < len) {
    if (Status s = CopyBytes(in, from, out, to, head, path); !s.ok()) return s;
    from += head;
    to += head;
    len -= head;
  }
  return CopyBytes(in, from, out, to, len, path);
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

std::optional<ShiftPlan> PlanShift(TargetFile& target,
                                   const OverlayStream& overlay) {
  const uint64_t old_size = target.identity().size;
  // The tail: the last pieces, the old file's bytes in order up to its end.
  const auto& pieces = overlay.pieces();
  uint64_t head = overlay.length(), from = old_size;
  for (size_t k = pieces.size(); k > 0; --k) {
    const auto& p = pieces[k - 1];
    if (!p.from_base || p.base_offset + p.length != from) break;
    from = p.base_offset;
    head -= p.length;
  }
  if (head <= from || old_size - from < kMinShiftTail) return std::nullopt;
  const ShiftPlan plan{from - from % kCloneBlock, head - from, head};
  if (plan.len % kCloneBlock != 0) return std::nullopt;
  // A hole of the file's own after `at` would look like the room to
  // recovery; such a file (rare in audio) is copied instead.
  const off_t hole =
      ::lseek(target.fd(), static_cast<off_t>(plan.at), SEEK_HOLE);
  if (hole < 0 || static_cast<uint64_t>(hole) < old_size) return std::nullopt;
  return plan;
}

PendingCommit::PendingCommit(TargetFile& target, const OverlayStream& overlay,
                             Kind kind, const CommitOptions& opts,
                             const ShiftPlan& shift)
    : target_(target),
      overlay_(overlay),
      kind_(kind),
      opts_(opts),
      shift_(shift) {}

Result<std::shared_ptr<JournalFile>> JournalFile::Create(
    int dir_fd, const std::string& name, const std::string& label,
    const std::vector<const Journal*>& entries, size_t users) {
  auto fd = WriteJournal(dir_fd, name, entries, label);
  if (!fd.ok()) return fd.status();
  // The journal's lock goes when this descriptor is closed: after the
  // journal is removed, or by the kernel when the process dies.
  return std::shared_ptr<JournalFile>(
      new JournalFile(dir_fd, name, label, *fd, users));
}

JournalFile::~JournalFile() { ::close(fd_); }

Status JournalFile::Release(bool keep) {
  std::lock_guard<std::mutex> lock(mu_);
  keep_ = keep_ || keep;
  if (users_ == 0 || --users_ > 0 || keep_) return Status::OK();
  if (::unlinkat(dir_fd_, name_.c_str(), 0) != 0)
    return ErrnoStatus(label_, "remove journal");
  return Status::OK();
}

PendingCommit::~PendingCommit() {
  // A journal guarding written bytes stays for recovery; anything else
  // beside the file goes.
  ReleaseJournal(/*keep=*/file_touched_, nullptr);
  DropSidecar();
  if (sidecar_fd_ >= 0) ::close(sidecar_fd_);
}

void PendingCommit::ReleaseJournal(bool keep, Status* removed) {
  if (!journal_file_) return;
  Status s = journal_file_->Release(keep);
  journal_file_.reset();
  if (removed != nullptr) *removed = s;
}

void PendingCommit::DropSidecar() {
  if (!sidecar_.empty() && !renamed_)
    ::unlinkat(target_.dir_fd(), sidecar_.c_str(), 0);
  sidecar_.clear();
}

Result<std::unique_ptr<PendingCommit>> PendingCommit::Stage(
    TargetFile& target, const OverlayStream& overlay, Kind kind,
    const CommitOptions& opts, const ShiftPlan& shift) {
  std::unique_ptr<PendingCommit> c(
      new PendingCommit(target, overlay, kind, opts, shift));
  Status s;
  if (kind == Kind::kCopy) {
    s = c->StageCopy();
  } else {
    s = c->StartJournal();
    if (s.ok()) s = kind == Kind::kShift ? c->StageShift() : c->StageJournal();
    // The bytes the journal holds were read from the file the build read.
    if (s.ok()) s = InjectedFailure("identity", target.path());
    if (s.ok()) s = target.CheckUnchanged();
  }
  if (!s.ok()) return s;  // the destructor removes what was made
  return c;
}

Status PendingCommit::StartJournal() {
  if (!target_.writable())
    return Status::Refused(target_.path() +
                           ": cannot be opened for writing; not written");
  journal_.identity = target_.identity();
  journal_.new_length = overlay_.length();
  journal_.pid = ::getpid();
  journal_.host = HostName();
  return Status::OK();
}

Status PendingCommit::StageJournal() {
  const uint64_t old_size = journal_.identity.size;
  Journal& journal = journal_;
  uint64_t pos = 0;
  for (const auto& p : overlay_.pieces()) {
    if (!p.from_base)
      journal.written.push_back(
          {pos, std::string(reinterpret_cast<const char*>(overlay_.added(p)),
                            p.length)});
    if (!p.from_base && pos < old_size) {
      Journal::Range r;
      r.offset = pos;
      r.original.resize(std::min<uint64_t>(p.length, old_size - pos));
      if (Status s = ReadExactly(target_.source(), pos, r.original.data(),
                                 r.original.size());
          !s.ok())
        return s;
      stats_.bytes_written += r.original.size();
      journal.ranges.push_back(std::move(r));
    }
    pos += p.length;
  }
  return Status::OK();
}

Status PendingCommit::StageShift() {
  if (shift_.len == 0 || shift_.head < shift_.len ||
      overlay_.length() != target_.identity().size + shift_.len)
    return Status::Internal(target_.path() +
                            ": a shift without a shift's plan");
  Journal& journal = journal_;
  journal.shift_at = shift_.at;
  journal.shift_len = shift_.len;
  // The old bytes the new front covers, and the new front itself (what
  // ApplyHead writes: the added bytes and any old ones moved into it).
  Journal::Range old{0, std::string(shift_.head - shift_.len, '\0')};
  std::string front;
  front.reserve(shift_.head);
  if (Status s = ReadExactly(target_.source(), 0, old.original.data(),
                             old.original.size());
      !s.ok())
    return s;
  for (const auto& p : overlay_.pieces()) {
    const uint64_t n = std::min<uint64_t>(p.length, shift_.head - front.size());
    if (n == 0) break;
    if (p.from_base) {
      const size_t at = front.size();
      front.resize(at + n);
      if (Status s = ReadExactly(target_.source(), p.base_offset,
                                 front.data() + at, n);
          !s.ok())
        return s;
    } else {
      front.append(overlay_.added(p), n);
    }
  }
  stats_.bytes_written += old.original.size();
  journal.ranges.push_back(std::move(old));
  journal.written.push_back({0, std::move(front)});
  return Status::OK();
}

std::vector<Status> PendingCommit::StageJournals(
    const std::vector<PendingCommit*>& commits) {
  std::vector<Status> out(commits.size());
  // The commits in place of each folder, in order.
  std::vector<const TargetFile*> files(commits.size(), nullptr);
  for (size_t i = 0; i < commits.size(); ++i) {
    const PendingCommit* c = commits[i];
    if (c != nullptr && c->kind_ != Kind::kCopy && !c->journal_file_)
      files[i] = &c->target_;
  }
  for (const std::vector<size_t>& members : GroupByFolder(files, &out)) {
    std::vector<const Journal*> entries;
    for (size_t i : members) {
      // One file's journal names it by its own name; several are named.
      Journal& j = commits[i]->journal_;
      j.file = members.size() == 1 ? "" : commits[i]->target_.name();
      entries.push_back(&j);
    }
    // Named after the first file whose journal name is free (a journal
    // left unresolved beside one of them keeps its name).
    Result<std::shared_ptr<JournalFile>> made = Status::Internal("no journal");
    for (size_t i : members) {
      const TargetFile& t = commits[i]->target_;
      made = JournalFile::Create(t.dir_fd(), JournalNameFor(t.name()),
                                 JournalPathFor(t.path()), entries,
                                 members.size());
      if (made.ok() || made.status().code() != Status::Code::kConflict) break;
    }
    for (size_t i : members) {
      if (made.ok())
        commits[i]->journal_file_ = *made;
      else
        out[i] = made.status();
    }
  }
  return out;
}

Status PendingCommit::StageCopy() {
  const std::string& path = target_.path();
  const FileIdentity id = target_.identity();
  const int dir = target_.dir_fd();
  const std::string tmp_name = TempNameFor(target_.name());
  const std::string tmp =
      (std::filesystem::path(path).parent_path() / tmp_name).string();
  if (Status s = InjectedFailure("temp-create", path); !s.ok()) return s;
  // Locked until the rename or the unlink: a temporary file whose lock is
  // free has no live writer.
  auto created =
      CreateLockedSidecar(dir, tmp_name, tmp, "temporary file", "temp-created");
  if (!created.ok()) return created.status();
  const int fd = *created;
  sidecar_ = tmp_name;
  sidecar_fd_ = fd;

  uint64_t pos = 0;
  for (const auto& p : overlay_.pieces()) {
    Status s = InjectedFailure("temp-write", path);
    if (s.ok())
      s = p.from_base
              ? CopyRange(target_.fd(), p.base_offset, fd, pos, p.length, path)
              : PWriteAll(fd, overlay_.added(p), p.length, pos, tmp,
                          "write temporary file");
    if (!s.ok()) return s;
    pos += p.length;
  }
  stats_.bytes_written += pos;
  // The copy takes the original's place: same owner, group, mode and
  // extended attributes.
  if (::fchown(fd, id.uid, id.gid) != 0 &&
      (id.uid != ::geteuid() || ::fchown(fd, -1, id.gid) != 0))
    return ErrnoStatus(path, "keep owner and group on the new copy");
  if (::fchmod(fd, id.mode & 07777) != 0)
    return ErrnoStatus(path, "keep permissions on the new copy");
  if (Status s = CopyExtendedAttributes(target_.fd(), fd, path); !s.ok())
    return s;
  if (opts_.keep_mtime)
    if (Status s = SetFileTimes(fd, id.atime_ns, id.mtime_ns, tmp); !s.ok())
      return s;
  // Size and mtime are final here; the rename changes neither.
  if (struct stat st; ::fstat(fd, &st) == 0)
    stats_.after = IdentityFromStat(st);
  return Status::OK();
}

void PendingCommit::NeedBeforeApply(SyncBarrier& barrier, size_t member) const {
  if (kind_ != Kind::kCopy) {
    // fsync, not fdatasync, of the journal; and its name in the folder.
    barrier.AddFile(member, journal_file_->fd(), "journal-fsync",
                    journal_file_->label());
    barrier.AddFolder(member, target_.dir_fd(), nullptr, target_.path());
  } else {
    barrier.AddFile(member, sidecar_fd_, "temp-fsync", target_.path());
  }
}

Status PendingCommit::Apply(Status staged) {
  const std::string& path = target_.path();
  if (!staged.ok()) return staged;  // nothing touched; the sidecar goes
  if (kind_ == Kind::kCopy) {
    CrashPoint("after-temp-written");
    Status s = InjectedFailure("identity", path);
    if (s.ok()) s = target_.CheckUnchanged(&stats_.before);
    if (s.ok() && opts_.gate) s = opts_.gate();
    if (s.ok()) s = InjectedFailure("rename", path);
    if (!s.ok()) return s;
    const int dir = target_.dir_fd();
    if (::renameat(dir, sidecar_.c_str(), dir, target_.name().c_str()) != 0)
      return ErrnoStatus(path, "rename the new copy over the original");
    renamed_ = true;
    sidecar_.clear();
    ::close(sidecar_fd_);  // drops the copy's lock: it has a real name now
    sidecar_fd_ = -1;
    CrashPoint("after-rename");
    return Status::OK();
  }

  CrashPoint("after-journal");
  // Immediately before the first byte: the descriptor we write through
  // still is the file we read, and still has its name.
  // Then the claim: last, so no step of ours runs between it and the byte.
  Status s = InjectedFailure("patch-identity", path);
  if (s.ok()) s = target_.CheckUnchanged(&stats_.before);
  if (s.ok() && opts_.gate) s = opts_.gate();
  if (!s.ok()) return s;  // nothing was written; the journal goes
  // From here the journal protects the file: any failure rolls it back.
  file_touched_ = true;
  const int fd = target_.fd();
  if (kind_ == Kind::kShift) {
    s = InjectedFailure("shift-insert", path);
    if (s.ok() &&
        ::fallocate(fd, FALLOC_FL_INSERT_RANGE, static_cast<off_t>(shift_.at),
                    static_cast<off_t>(shift_.len)) != 0)
      s = ErrnoStatus(path, "make room for the grown tag area (insert range)");
    if (s.ok()) return s;
    // Refused before a block moved (the size tells: it grows first):
    // nothing to undo.
    if (struct stat st;
        ::fstat(fd, &st) == 0 &&
        static_cast<uint64_t>(st.st_size) == journal_.identity.size) {
      file_touched_ = false;
      return s.Prepend(
          "not written, the file is as it was (NOMTAG_SHIFT=off copies "
          "instead): ");
    }
    return RollBackWith(s);
  }
  uint64_t pos = 0;
  int ranges_written = 0;
  for (const auto& p : overlay_.pieces()) {
    if (!p.from_base) {
      if (ranges_written == 1) CrashPoint("between-range-writes");
      s = InjectedFailure("patch-write", path);
      if (s.ok())
        s = PWriteAll(fd, overlay_.added(p), p.length, pos, path, "write");
      if (!s.ok()) break;
      stats_.bytes_written += p.length;
      ++ranges_written;
    }
    pos += p.length;
  }
  if (s.ok() && opts_.keep_mtime)
    s = SetFileTimes(fd, journal_.identity.atime_ns, journal_.identity.mtime_ns,
                     path);
  if (!s.ok()) return RollBackWith(s);
  return Status::OK();
}

void PendingCommit::NeedBeforeHead(SyncBarrier& barrier, size_t member) const {
  // The room durable before a byte goes into it: a power cut then finds
  // either no room and the old bytes, or the room and old or new bytes,
  // never new bytes in blocks the insert had not moved yet (journal.h).
  if (kind_ == Kind::kShift)
    barrier.AddFile(member, target_.fd(), "shift-fsync", target_.path());
}

Status PendingCommit::ApplyHead(Status inserted) {
  if (kind_ != Kind::kShift) return Status::OK();
  if (!inserted.ok()) return RollBackWith(inserted);
  CrashPoint("after-shift");
  const std::string& path = target_.path();
  const std::string& front = journal_.written.front().bytes;
  Status s = InjectedFailure("patch-write", path);
  if (s.ok())
    s = PWriteAll(target_.fd(), front.data(), front.size(), 0, path, "write");
  if (s.ok()) stats_.bytes_written += front.size();
  if (s.ok() && opts_.keep_mtime)
    s = SetFileTimes(target_.fd(), journal_.identity.atime_ns,
                     journal_.identity.mtime_ns, path);
  if (!s.ok()) return RollBackWith(s);
  return Status::OK();
}

void PendingCommit::NeedBeforeFinish(SyncBarrier& barrier,
                                     size_t member) const {
  if (kind_ != Kind::kCopy) {
    // fsync, not fdatasync: the file may have grown at its end, and the
    // new size, mtime and ctime must be as durable as the bytes.
    barrier.AddFile(member, target_.fd(), "patch-fsync", target_.path());
  } else {
    barrier.AddFolder(member, target_.dir_fd(), "dir-fsync", target_.path());
  }
}

Status PendingCommit::RollBackWith(Status why) {
  Status rb = RollBack(target_, journal_);
  if (!rb.ok())
    return why.Prepend("write failed and rollback failed too (" + rb.message() +
                       "); the journal " + journal_file_->label() +
                       " is kept for `nomtag recover`");
  file_touched_ = false;  // the file is the old one again; the journal goes
  ReleaseJournal(/*keep=*/false, nullptr);
  return why;
}

Status PendingCommit::Finish(Status applied) {
  const std::string& path = target_.path();
  if (kind_ == Kind::kCopy) {
    // The new version is in place; if the folder cannot be synced the
    // rename may not survive a power cut, which leaves the old file
    // (never a broken one): a warning, not a failed write.
    if (!applied.ok())
      stats_.warnings.push_back(applied.message() +
                                " (the file holds the new version, but a "
                                "power cut may bring the old one back)");
    return Status::OK();
  }
  if (!applied.ok()) return RollBackWith(applied);
  if (struct stat st; ::fstat(target_.fd(), &st) == 0)
    stats_.after = IdentityFromStat(st);
  CrashPoint("before-journal-remove");
  // No folder sync: if a crash undoes this unlink, recovery finds the
  // file holding the new version and only drops the journal (journal.h).
  // The new version is durable: a journal that cannot be removed is a
  // warning, not a failed write.
  // The journal goes with the group's last file (JournalFile).
  file_touched_ = false;
  Status removed = InjectedFailure("journal-remove", path);
  ReleaseJournal(/*keep=*/!removed.ok(), removed.ok() ? &removed : nullptr);
  if (!removed.ok())
    stats_.warnings.push_back(
        removed.message() +
        " (the file holds the new version; the next run drops the journal)");
  return Status::OK();
}

namespace {

// One file's commit with its own syncs.
Status CommitAlone(TargetFile& target, const OverlayStream& overlay,
                   PendingCommit::Kind kind, const CommitOptions& opts,
                   CommitStats* stats) {
  auto c = PendingCommit::Stage(target, overlay, kind, opts);
  if (!c.ok()) return c.status();
  if (Status s = PendingCommit::StageJournals({c->get()})[0]; !s.ok()) return s;
  SyncBarrier barrier;
  (*c)->NeedBeforeApply(barrier, 0);
  Status s = (*c)->Apply(barrier.Sync(1)[0]);
  if (s.ok()) {
    (*c)->NeedBeforeFinish(barrier, 0);
    s = (*c)->Finish(barrier.Sync(1)[0]);
  }
  *stats = std::move((*c)->stats());
  return s;
}

}  // namespace

Status CommitInPlace(TargetFile& target, const OverlayStream& overlay,
                     const CommitOptions& opts, CommitStats* stats) {
  return CommitAlone(target, overlay, PendingCommit::Kind::kInPlace, opts,
                     stats);
}

Status CommitByCopy(TargetFile& target, const OverlayStream& overlay,
                    const CommitOptions& opts, CommitStats* stats) {
  return CommitAlone(target, overlay, PendingCommit::Kind::kCopy, opts, stats);
}

}  // namespace nomtag
