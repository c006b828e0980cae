#include "write/journal_match.h"

#include <algorithm>

#include "io/file_source.h"

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
  auto source = FileSource::Open(file);
  if (!source.ok()) return source.status();
  return MatchJournal(**source, j);
}

Result<JournalMatch> MatchJournal(ByteSource& source, const Journal& j) {
  if (j.written.empty()) return JournalMatch::kUnknown;
  const std::string& file = source.name();
  const uint64_t size = source.size();
  // A write in place never shrinks a file.
  if (size < j.identity.size || size > j.new_length)
    return JournalMatch::kChanged;
  bool all_new = size == j.new_length;
  bool all_old = size == j.identity.size;
  for (const auto& e : j.written) {
    // A damaged journal whose extents leave the new file describes no
    // version of it.
    if (e.offset > j.new_length || e.bytes.size() > j.new_length - e.offset)
      return JournalMatch::kChanged;
    if (e.offset >= size) {
      all_new = false;  // not reached yet
      continue;
    }
    const std::string* old = OriginalAt(j, e.offset);
    std::string now(std::min<uint64_t>(e.bytes.size(), size - e.offset), '\0');
    size_t got = 0;
    if (Status s = source.ReadAt(e.offset, now.data(), now.size(), &got);
        !s.ok())
      return s;
    if (got != now.size())
      return Status::IoError(file + ": got shorter while read");
    if (now.size() < e.bytes.size()) all_new = false;
    for (size_t i = 0; i < now.size(); ++i) {
      // Past the old end there is no old byte: the write extended the
      // file and the new byte has not landed (the filesystem shows zeros).
      const bool has_old = old != nullptr && i < old->size();
      const bool is_old = has_old ? now[i] == (*old)[i] : now[i] == '\0';
      if (!has_old || !is_old) all_old = false;
      if (now[i] == e.bytes[i]) continue;
      all_new = false;
      if (!is_old) return JournalMatch::kChanged;
    }
  }
  if (all_new) return JournalMatch::kNewVersion;
  if (all_old) return JournalMatch::kOldVersion;
  return JournalMatch::kInterrupted;
}

}  // namespace nomtag
