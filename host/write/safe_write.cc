#include "write/safe_write.h"

#include <sys/stat.h>

#include <filesystem>

#include "io/file_source.h"
#include "io/overlay_stream.h"
#include "write/commit.h"
#include "write/fault_injection.h"
#include "write/payload_check.h"

namespace nomtag {
namespace {

// The first difference between two foreign snapshots, for the message.
std::string FirstDifference(const ForeignSnapshot& before,
                            const ForeignSnapshot& after) {
  size_t n = std::min(before.size(), after.size());
  for (size_t i = 0; i < n; ++i) {
    if (before[i].id != after[i].id)
      return "'" + before[i].id + "' would become '" + after[i].id + "'";
    if (before[i].data != after[i].data)
      return "'" + before[i].id + "' would change";
  }
  if (before.size() > n) return "'" + before[n].id + "' would be lost";
  if (after.size() > n) return "'" + after[n].id + "' would appear";
  return "";
}

std::string Keys(const TagSet& tags) {
  std::string out;
  for (const auto& [k, v] : tags) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "(none)" : out;
}

Status Refuse(const std::string& path, const std::string& why) {
  return Status::Refused(path + ": verify: " + why +
                         "; the file was not written");
}

Status CheckWritable(const std::string& path, const FileIdentity& id,
                     const WriteOptions& options) {
  // Root may write anything; a file or folder without write permission is
  // still the user saying "leave this alone".
  if ((id.mode & 0222) == 0)
    return Status::Refused(path + ": the file is read-only; not written");
  std::string dir = std::filesystem::path(path).parent_path().string();
  struct stat st;
  if (::stat(dir.empty() ? "." : dir.c_str(), &st) == 0 &&
      (st.st_mode & 0222) == 0)
    return Status::Refused(path + ": its folder is read-only; not written");
  (void)options;
  return Status::OK();
}

}  // namespace

const char* ActionName(WriteResult::Action action) {
  switch (action) {
    case WriteResult::Action::kUnchanged:
      return "unchanged";
    case WriteResult::Action::kInPlace:
      return "in place";
    case WriteResult::Action::kCopied:
      return "copied";
  }
  return "?";
}

Result<FileTags> ReadFileTags(const FormatPlugin& format,
                              const std::string& path) {
  auto source = FileSource::Open(path);
  if (!source.ok()) return source.status();
  OverlayStream original(source->get(), /*read_only=*/true);
  auto nom = format.ReadNamespace(*original.stream());
  if (!nom.ok()) return nom.status();
  auto foreign = format.ReadForeign(*original.stream());
  if (!foreign.ok()) return foreign.status();
  return FileTags{std::move(*nom), std::move(*foreign)};
}

Result<WriteResult> SafeWriteNamespace(const FormatPlugin& format,
                                       const std::string& path,
                                       const TagSet& desired,
                                       const WriteOptions& options) {
  for (const auto& [key, values] : desired) {
    if (!IsValidTagKey(key))
      return Status::InvalidArgument(path + ": '" + key +
                                     "' is not a valid nom key");
    if (values.empty())
      return Status::InvalidArgument(path + ": key '" + key + "' has no value");
  }
  if (Status s = InjectedFailure("open", path); !s.ok()) return s;
  auto opened = FileSource::Open(path);
  if (!opened.ok()) return opened.status();
  FileSource& source = **opened;
  OverlayStream original(&source, /*read_only=*/true);

  // 2. Compare first: an unchanged namespace is not rewritten.
  auto current = format.ReadNamespace(*original.stream());
  if (!current.ok()) return current.status();
  WriteResult result;
  if (current->tags == desired && !current->has_legacy_keys) return result;

  if (Status s = CheckWritable(path, source.identity(), options); !s.ok())
    return s;

  // 3. What must survive.
  if (Status s = InjectedFailure("snapshot", path); !s.ok()) return s;
  auto foreign_before = format.ReadForeign(*original.stream());
  if (!foreign_before.ok()) return foreign_before.status();
  auto payload_before = format.ReadPayload(*original.stream());
  if (!payload_before.ok()) return payload_before.status();

  // 4. Build in memory.
  OverlayStream edited(&source, /*read_only=*/false);
  if (Status s = InjectedFailure("build", path); !s.ok()) return s;
  if (Status s =
          format.WriteNamespace(*edited.stream(), desired, options.padding);
      !s.ok())
    return s;

  // 5. Verify through the overlay.
  if (Status s = InjectedFailure("verify", path); !s.ok()) return s;
  auto written = format.ReadNamespace(*edited.stream());
  if (!written.ok())
    return Refuse(path, "the new file cannot be read back (" +
                            written.status().message() + ")");
  if (written->tags != desired || written->has_legacy_keys)
    return Refuse(path, "the namespace reads back as [" + Keys(written->tags) +
                            "], not as desired [" + Keys(desired) + "]");
  auto foreign_after = format.ReadForeign(*edited.stream());
  if (!foreign_after.ok())
    return Refuse(path, "foreign tags cannot be read back (" +
                            foreign_after.status().message() + ")");
  if (*foreign_after != *foreign_before)
    return Refuse(path, "a tag that is not ours, " +
                            FirstDifference(*foreign_before, *foreign_after));
  auto payload_after = format.ReadPayload(*edited.stream());
  if (!payload_after.ok())
    return Refuse(path, "the audio cannot be read back (" +
                            payload_after.status().message() + ")");
  if (Status s =
          CheckPayloadUnchanged(*payload_before, original, *payload_after,
                                edited, &result.payload_proven_by_mapping);
      !s.ok())
    return Refuse(path, s.message());

  // 6. Commit.
  CommitOptions commit{options.keep_mtime};
  CommitStats stats;
  bool in_place = !options.copy_only && edited.PreservesOffsets();
  if (!in_place && source.identity().nlink > 1 && !options.break_hardlinks)
    return Status::Refused(
        path + ": has " + std::to_string(source.identity().nlink) +
        " hard links and the new tags do not fit in place; writing a copy "
        "would detach this name from the others (library option hardlinks: "
        "break allows it)");
  Status s = in_place ? CommitInPlace(path, source, edited, commit, &stats)
                      : CommitByCopy(path, source, edited, commit, &stats);
  if (!s.ok()) return s;
  result.action =
      in_place ? WriteResult::Action::kInPlace : WriteResult::Action::kCopied;
  result.bytes_written = stats.bytes_written;
  return result;
}

}  // namespace nomtag
