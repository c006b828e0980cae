#include "write/journal_match.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/posix_file.h"

namespace nomtag {
namespace {

// The original bytes of the range the write recorded at offset, or
// nullptr (an extent past the old end has none).
const std::string* OriginalAt(const Journal& j, uint64_t offset) {
  for (const auto& r : j.ranges)
    if (r.offset == offset) return &r.original;
  return nullptr;
}

}  // namespace

Result<JournalMatch> MatchJournal(const std::string& file, const Journal& j) {
  if (j.written.empty()) return JournalMatch::kUnknown;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus(file, "open");
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    Status s = ErrnoStatus(file, "stat");
    ::close(fd);
    return s;
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  // A write in place never shrinks a file.
  if (size < j.identity.size || size > j.new_length) {
    ::close(fd);
    return JournalMatch::kChanged;
  }
  bool all_new = size == j.new_length;
  bool old_or_new = true;
  for (const auto& e : j.written) {
    // A damaged journal whose extents leave the new file describes no
    // version of it.
    if (e.offset > j.new_length || e.bytes.size() > j.new_length - e.offset) {
      old_or_new = false;
      break;
    }
    if (e.offset >= size) {
      all_new = false;  // not reached yet
      continue;
    }
    std::string now(std::min<uint64_t>(e.bytes.size(), size - e.offset), '\0');
    ssize_t got =
        ::pread(fd, now.data(), now.size(), static_cast<off_t>(e.offset));
    if (got != static_cast<ssize_t>(now.size())) {
      Status s = ErrnoStatus(file, "read");
      ::close(fd);
      return s;
    }
    if (now.size() < e.bytes.size()) all_new = false;
    const std::string* old = OriginalAt(j, e.offset);
    for (size_t i = 0; i < now.size(); ++i) {
      if (now[i] == e.bytes[i]) continue;
      all_new = false;
      // Past the old end there is no old byte: the write extended the
      // file and the new byte has not landed (the filesystem shows zeros).
      const bool is_old = old != nullptr && i < old->size()
                              ? now[i] == (*old)[i]
                              : now[i] == '\0';
      if (!is_old) old_or_new = false;
    }
    if (!old_or_new) break;
  }
  ::close(fd);
  if (!old_or_new) return JournalMatch::kChanged;
  return all_new ? JournalMatch::kNewVersion : JournalMatch::kInterrupted;
}

}  // namespace nomtag
