#include "write/journal.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "io/posix_file.h"
#include "io/target_file.h"
#include "write/fault_injection.h"
#include "write/sidecar_file.h"

namespace nomtag {
namespace {

// J2 appends the new bytes and where they go; J3 holds several files'
// entries, each named; J4 is J3 with each entry's shift (written only when
// one is a shift, so that other journals stay readable by older nomtags);
// J1 is still read.
constexpr char kMagic[8] = {'N', 'O', 'M', 'T', 'A', 'G', 'J', '2'};
constexpr char kMagicV3[8] = {'N', 'O', 'M', 'T', 'A', 'G', 'J', '3'};
constexpr char kMagicV4[8] = {'N', 'O', 'M', 'T', 'A', 'G', 'J', '4'};
constexpr char kMagicV1[8] = {'N', 'O', 'M', 'T', 'A', 'G', 'J', '1'};

void Put64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

bool Get64(const std::string& in, size_t* at, uint64_t* v) {
  if (*at + 8 > in.size()) return false;
  *v = 0;
  for (int i = 7; i >= 0; --i)
    *v = (*v << 8) | static_cast<unsigned char>(in[*at + i]);
  *at += 8;
  return true;
}

void PutBytes(std::string* out, const std::string& s) {
  Put64(out, s.size());
  out->append(s);
}

bool GetBytes(const std::string& in, size_t* at, std::string* s) {
  uint64_t n;
  if (!Get64(in, at, &n) || *at + n > in.size() || *at + n < *at) return false;
  *s = in.substr(*at, n);
  *at += n;
  return true;
}

}  // namespace

std::string Sha256(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string HostName() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

namespace {

void PutEntry(std::string* data, const Journal& j) {
  Put64(data, j.identity.dev);
  Put64(data, j.identity.ino);
  Put64(data, j.identity.size);
  Put64(data, static_cast<uint64_t>(j.identity.mtime_ns));
  Put64(data, static_cast<uint64_t>(j.identity.atime_ns));
  Put64(data, j.new_length);
  Put64(data, static_cast<uint64_t>(j.pid));
  PutBytes(data, j.host);
  Put64(data, j.ranges.size());
  for (const auto& r : j.ranges) {
    Put64(data, r.offset);
    PutBytes(data, r.original);
  }
  Put64(data, j.written.size());
  for (const auto& e : j.written) {
    Put64(data, e.offset);
    PutBytes(data, e.bytes);
  }
}

// One entry's fields after its name; false when the body ends early. A
// J1 entry stops after its ranges.
bool GetEntry(const std::string& body, size_t* at, bool v1, Journal* j) {
  uint64_t mtime, atime, pid, count;
  if (!Get64(body, at, &j->identity.dev) ||
      !Get64(body, at, &j->identity.ino) ||
      !Get64(body, at, &j->identity.size) || !Get64(body, at, &mtime) ||
      !Get64(body, at, &atime) || !Get64(body, at, &j->new_length) ||
      !Get64(body, at, &pid) || !GetBytes(body, at, &j->host) ||
      !Get64(body, at, &count))
    return false;
  j->identity.mtime_ns = static_cast<int64_t>(mtime);
  j->identity.atime_ns = static_cast<int64_t>(atime);
  j->pid = static_cast<int64_t>(pid);
  for (uint64_t i = 0; i < count; ++i) {
    Journal::Range r;
    if (!Get64(body, at, &r.offset) || !GetBytes(body, at, &r.original))
      return false;
    j->ranges.push_back(std::move(r));
  }
  if (v1) return true;
  if (!Get64(body, at, &count)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    Journal::Extent e;
    if (!Get64(body, at, &e.offset) || !GetBytes(body, at, &e.bytes))
      return false;
    j->written.push_back(std::move(e));
  }
  return true;
}

}  // namespace

std::string EncodeJournal(const std::vector<const Journal*>& entries) {
  std::string data;
  bool shift = false;
  for (const Journal* j : entries) shift = shift || j->shift_len > 0;
  if (shift) {
    data.assign(kMagicV4, sizeof kMagicV4);
    Put64(&data, entries.size());
    for (const Journal* j : entries) {
      PutBytes(&data, j->file);
      PutEntry(&data, *j);
      Put64(&data, j->shift_at);
      Put64(&data, j->shift_len);
    }
  } else if (entries.size() == 1 && entries[0]->file.empty()) {
    data.assign(kMagic, sizeof kMagic);
    PutEntry(&data, *entries[0]);
  } else {
    data.assign(kMagicV3, sizeof kMagicV3);
    Put64(&data, entries.size());
    for (const Journal* j : entries) {
      PutBytes(&data, j->file);
      PutEntry(&data, *j);
    }
  }
  data += Sha256(data);
  return data;
}

Result<int> WriteJournal(int dir_fd, const std::string& name,
                         const std::vector<const Journal*>& entries,
                         const std::string& path) {
  const std::string data = EncodeJournal(entries);
  if (Status s = InjectedFailure("journal-write", path); !s.ok()) return s;
  // Locked before a byte of it exists: recovery never reads a journal
  // being written.
  auto fd =
      CreateLockedSidecar(dir_fd, name, path, "journal", "journal-created");
  if (!fd.ok()) return fd.status();
  Status s = PWriteAll(*fd, data.data(), data.size(), 0, path, "write journal");
  if (!s.ok()) {
    ::unlinkat(dir_fd, name.c_str(), 0);
    ::close(*fd);
    return s;
  }
  return *fd;
}

Result<std::vector<Journal>> ReadJournal(const std::string& path, bool* torn) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus(path, "open journal");
  auto j = ReadJournalFrom(fd, path, torn);
  ::close(fd);
  return j;
}

Result<std::vector<Journal>> ReadJournalFrom(int fd, const std::string& path,
                                             bool* torn) {
  *torn = false;
  std::string data;
  char buf[64 * 1024];
  // The test hook makes the disk fail after the first 16 bytes.
  const bool fail_midway = !InjectedFailure("journal-read", path).ok();
  for (;;) {
    ssize_t n = ::pread(fd, buf, fail_midway ? 16 : sizeof buf, data.size());
    if (n < 0 && errno == EINTR) continue;
    if (fail_midway && !data.empty()) {
      errno = EIO;
      n = -1;
    }
    if (n < 0)
      return ErrnoStatus(path, "read journal").Prepend("the journal is kept: ");
    if (n == 0) break;
    data.append(buf, n);
  }
  std::vector<Journal> entries;
  auto torn_journal = [&] {
    *torn = true;
    return std::vector<Journal>();
  };
  if (data.size() < sizeof kMagic + SHA256_DIGEST_LENGTH) return torn_journal();
  const bool v1 = std::memcmp(data.data(), kMagicV1, sizeof kMagic) == 0;
  const bool v4 = std::memcmp(data.data(), kMagicV4, sizeof kMagic) == 0;
  const bool v3 = v4 || std::memcmp(data.data(), kMagicV3, sizeof kMagic) == 0;
  if (!v1 && !v3 && std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return torn_journal();
  std::string body = data.substr(0, data.size() - SHA256_DIGEST_LENGTH);
  if (Sha256(body) != data.substr(body.size())) return torn_journal();
  size_t at = sizeof kMagic;
  uint64_t count = 1;
  if (v3 && (!Get64(body, &at, &count) || count == 0)) return torn_journal();
  for (uint64_t i = 0; i < count; ++i) {
    Journal j;
    // A journal of one file may leave its name to the journal's (J4).
    if (v3 && (!GetBytes(body, &at, &j.file) ||
               (j.file.empty() && !(v4 && count == 1))))
      return torn_journal();
    if (!GetEntry(body, &at, v1, &j)) return torn_journal();
    if (v4 &&
        (!Get64(body, &at, &j.shift_at) || !Get64(body, &at, &j.shift_len)))
      return torn_journal();
    entries.push_back(std::move(j));
  }
  return entries;
}

namespace {

// The end of the hole or data run that starts at `at` (lseek SEEK_DATA or
// SEEK_HOLE), or size when it runs to the end.
Result<uint64_t> NextRun(int fd, uint64_t at, int whence, uint64_t size,
                         const std::string& label) {
  if (at >= size) return size;
  off_t n = ::lseek(fd, static_cast<off_t>(at), whence);
  if (n < 0 && errno == ENXIO) return size;
  if (n < 0) return ErrnoStatus(label, "find the room a shift made");
  return std::min<uint64_t>(static_cast<uint64_t>(n), size);
}

// Takes a shift's room out of the file, wherever ShiftGap finds it: the
// file then has its old size, its blocks where they were, and only the
// journal's ranges (rewritten next) may still hold new bytes.
Status TakeOutShift(int fd, const Journal& j, const std::string& file) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(file, "rollback stat");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == j.identity.size) return Status::OK();  // nothing inserted
  if (size != j.identity.size + j.shift_len)
    return Status::Conflict(file + ": its size is neither the old one nor " +
                            "the old one and the room a shift makes");
  auto gap = ShiftGap(fd, j, size, file);
  if (!gap.ok()) return gap.status();
  if (Status s = InjectedFailure("shift-collapse", file); !s.ok()) return s;
  // Room at the very end (no block moved yet): the old size is the file.
  if (*gap == j.identity.size) {
    if (::ftruncate(fd, static_cast<off_t>(j.identity.size)) != 0)
      return ErrnoStatus(file, "rollback truncate");
    return Status::OK();
  }
  // The filesystem moves the blocks back and shrinks the file last, so a
  // cut here leaves again one hole of shift_len bytes (ShiftGap).
  if (::fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, static_cast<off_t>(*gap),
                  static_cast<off_t>(j.shift_len)) != 0)
    return ErrnoStatus(file, "rollback: take out the room the write made");
  return Status::OK();
}

}  // namespace

Result<uint64_t> ShiftGap(int fd, const Journal& j, uint64_t size,
                          const std::string& label) {
  const uint64_t at = j.shift_at, len = j.shift_len;
  // Every hole at or after shift_at (the file had none there before: the
  // write checked).
  std::vector<std::pair<uint64_t, uint64_t>> holes;
  for (uint64_t pos = at; pos < size;) {
    auto hole = NextRun(fd, pos, SEEK_HOLE, size, label);
    if (!hole.ok()) return hole.status();
    if (*hole >= size) break;
    auto data = NextRun(fd, *hole, SEEK_DATA, size, label);
    if (!data.ok()) return data.status();
    holes.emplace_back(*hole, *data);
    pos = *data;
  }
  const auto changed = [&] {
    return Status::Conflict(label +
                            ": its holes are not those an interrupted "
                            "shift leaves; written by something else since");
  };
  // The insert was whole: its room holds holes or new bytes, nothing else.
  bool within = true;
  for (const auto& [b, e] : holes) within = within && e <= at + len;
  if (within) return at;
  if (holes.size() != 1) return changed();
  const auto [b, e] = holes[0];
  // Grown, no block moved yet: the room is the end (its hole starts at the
  // first block boundary after the old end).
  const uint64_t old_size = j.identity.size;
  if (e == size && b >= old_size && b - old_size < 4096) return old_size;
  // Cut while blocks moved: one hole of exactly the room's size.
  if (e - b == len && b > at) return b;
  return changed();
}

Status RollBack(TargetFile& target, const Journal& j) {
  const std::string& file = target.path();
  if (target.identity().ino != j.identity.ino)
    return Status::Internal(file + ": rollback of another file's journal");
  if (!target.writable())
    return Status::IoError(file +
                           ": cannot be opened for writing; the "
                           "interrupted write cannot be rolled back");
  const int fd = target.fd();
  Status s;
  if (j.shift_len > 0) s = TakeOutShift(fd, j, file);
  for (const auto& r : j.ranges) {
    if (!s.ok()) break;
    s = PWriteAll(fd, r.original.data(), r.original.size(), r.offset, file,
                  "rollback write");
  }
  if (s.ok() && ::ftruncate(fd, static_cast<off_t>(j.identity.size)) != 0)
    s = ErrnoStatus(file, "rollback truncate");
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus(file, "rollback fsync");
  if (!s.ok()) return s;
  // The content is back and durable; the times are best effort (a time
  // the filesystem cannot store must not keep the journal forever).
  if (SetFileTimes(fd, j.identity.atime_ns, j.identity.mtime_ns, file).ok())
    ::fsync(fd);
  return target.Refresh();
}

}  // namespace nomtag
