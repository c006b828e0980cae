#include "write/journal.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "io/posix_file.h"
#include "io/target_file.h"
#include "write/fault_injection.h"
#include "write/sidecar_file.h"

namespace nomtag {
namespace {

// J2 appends the new bytes and where they go; J3 holds several files'
// entries, each named; J1 is still read.
constexpr char kMagic[8] = {'N', 'O', 'M', 'T', 'A', 'G', 'J', '2'};
constexpr char kMagicV3[8] = {'N', 'O', 'M', 'T', 'A', 'G', 'J', '3'};
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
  if (entries.size() == 1 && entries[0]->file.empty()) {
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
  const bool v3 = std::memcmp(data.data(), kMagicV3, sizeof kMagic) == 0;
  if (!v1 && !v3 && std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    return torn_journal();
  std::string body = data.substr(0, data.size() - SHA256_DIGEST_LENGTH);
  if (Sha256(body) != data.substr(body.size())) return torn_journal();
  size_t at = sizeof kMagic;
  uint64_t count = 1;
  if (v3 && (!Get64(body, &at, &count) || count == 0)) return torn_journal();
  for (uint64_t i = 0; i < count; ++i) {
    Journal j;
    if (v3 && (!GetBytes(body, &at, &j.file) || j.file.empty()))
      return torn_journal();
    if (!GetEntry(body, &at, v1, &j)) return torn_journal();
    entries.push_back(std::move(j));
  }
  return entries;
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
  for (const auto& r : j.ranges) {
    s = PWriteAll(fd, r.original.data(), r.original.size(), r.offset, file,
                  "rollback write");
    if (!s.ok()) break;
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
