#include "write/journal_match.h"

#include <algorithm>
#include <cstdint>
#include <string>

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

// A shift's entry (journal.h): one range of the old bytes at 0 and one
// extent of the new ones at 0, the new one longer by exactly the room.
bool WellFormedShift(const Journal& j) {
  if (j.ranges.size() != 1 || j.written.size() != 1 ||
      j.ranges[0].offset != 0 || j.written[0].offset != 0)
    return false;
  const uint64_t old_head = j.ranges[0].original.size();
  return j.shift_len <= UINT64_MAX - j.identity.size &&
         j.new_length == j.identity.size + j.shift_len &&
         j.written[0].bytes.size() == old_head + j.shift_len &&
         j.shift_at <= old_head && old_head < j.identity.size;
}

Result<JournalMatch> MatchShift(FileSource& source, const Journal& j) {
  if (!WellFormedShift(j)) return JournalMatch::kChanged;
  const std::string& old = j.ranges[0].original;
  const std::string& now_new = j.written[0].bytes;
  const uint64_t at = j.shift_at, len = j.shift_len, size = source.size();
  const uint64_t old_head = old.size(), new_head = now_new.size();
  // Where the room sits: none (the old size), or gap.
  uint64_t gap = UINT64_MAX;
  if (size == j.new_length) {
    auto found = ShiftGap(source.fd(), j, size, source.name());
    if (!found.ok())
      return found.status().code() == Status::Code::kConflict
                 ? Result<JournalMatch>(JournalMatch::kChanged)
                 : Result<JournalMatch>(found.status());
    gap = *found;
  } else if (size != j.identity.size) {
    return JournalMatch::kChanged;
  }
  const bool whole = gap == at;  // the room in place, as the write made it
  std::string now(std::min<uint64_t>(size, whole ? new_head : old_head + len),
                  '\0');
  if (Status s = ReadExactly(source, 0, now.data(), now.size()); !s.ok())
    return s;
  bool all_old = gap == UINT64_MAX, all_new = whole;
  for (uint64_t y = 0; y < now.size(); ++y) {
    // What may be at y: the old byte that sits there in this layout, and
    // the new byte whose block sits there (the same block once moved).
    const char c = now[y];
    bool may_old, may_new;
    if (y < at) {
      may_old = c == old[y];
      may_new = c == now_new[y];
    } else if (gap == UINT64_MAX || y < gap) {  // blocks not moved
      if (y >= old_head) break;                 // the audio: not compared
      may_old = c == old[y];
      may_new = y + len < new_head && c == now_new[y + len];
    } else if (y < gap + len) {  // the room: holes, or the new bytes
      may_old = false;
      may_new = c == now_new[y] || (whole ? c == '\0' : true);
      if (whole && c != now_new[y]) all_new = false;
      if (!whole) continue;
    } else {  // moved blocks: the old byte len earlier
      if (y - len >= old_head) break;
      may_old = c == old[y - len];
      may_new = y < new_head && c == now_new[y];
    }
    if (!may_old) all_old = false;
    if (!may_new) all_new = false;
    if (!may_old && !may_new) return JournalMatch::kChanged;
  }
  if (all_new && whole) return JournalMatch::kNewVersion;
  if (all_old && gap == UINT64_MAX) return JournalMatch::kOldVersion;
  return JournalMatch::kInterrupted;
}

}  // namespace

Result<JournalMatch> MatchJournal(const std::string& file, const Journal& j) {
  auto source = FileSource::Open(file);
  if (!source.ok()) return source.status();
  return MatchJournal(**source, j);
}

Result<JournalMatch> MatchJournal(FileSource& source, const Journal& j) {
  if (j.written.empty()) return JournalMatch::kUnknown;
  if (j.shift_len > 0) return MatchShift(source, j);
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
    if (Status s = ReadExactly(source, e.offset, now.data(), now.size());
        !s.ok())
      return s;
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
