#include "write/safe_write.h"

#include <sys/stat.h>

#include "io/file_source.h"
#include "io/overlay_stream.h"
#include "write/commit.h"
#include "write/fault_injection.h"
#include "write/recovery.h"
#include "write/verified_build.h"

namespace nomtag {
namespace {

Status CheckWritable(const TargetFile& target) {
  // Root may write anything; a file or folder without write permission is
  // still the user saying "leave this alone".
  if ((target.identity().mode & 0222) == 0)
    return Status::Refused(target.path() +
                           ": the file is read-only; not written");
  struct stat st;
  if (::fstat(target.dir_fd(), &st) == 0 && (st.st_mode & 0222) == 0)
    return Status::Refused(target.path() +
                           ": its folder is read-only; not written");
  if (!target.writable())
    return Status::Refused(target.path() +
                           ": cannot be opened for writing; not written");
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

Result<FileTags> ReadTargetTags(const FormatPlugin& format,
                                TargetFile& target) {
  OverlayStream original(&target.source(), /*read_only=*/true);
  auto nom = format.ReadNamespace(*original.stream());
  if (!nom.ok()) return nom.status();
  auto foreign = format.ReadForeign(*original.stream());
  if (!foreign.ok()) return foreign.status();
  return FileTags{std::move(*nom), std::move(*foreign)};
}

Result<FileTags> ReadFileTags(const FormatPlugin& format,
                              const std::string& path) {
  auto target = TargetFile::Open(path, TargetFile::Purpose::kRead);
  if (!target.ok()) return target.status();
  return ReadTargetTags(format, **target);
}

Result<WriteResult> SafeWriteNamespace(const FormatPlugin& format,
                                       const std::string& path,
                                       const TagSet& desired,
                                       const WriteOptions& options) {
  if (Status s = InjectedFailure("open", path); !s.ok()) return s;
  auto target = TargetFile::Open(path, TargetFile::Purpose::kWrite);
  if (!target.ok()) return target.status();
  return SafeWriteTarget(format, **target, desired, options);
}

Result<WriteResult> SafeWriteTarget(const FormatPlugin& format,
                                    TargetFile& target, const TagSet& desired,
                                    const WriteOptions& options) {
  const std::string& path = target.path();
  for (const auto& [key, values] : desired) {
    if (!IsValidTagKey(key))
      return Status::InvalidArgument(path + ": '" + key +
                                     "' is not a valid nom key");
    if (values.empty())
      return Status::InvalidArgument(path + ": key '" + key + "' has no value");
  }
  // 1. A journal a killed writer left beside the file: resolved first
  // (we hold the file's lock), so the build reads a whole version.
  WriteResult result;
  RecoveryReport recovery;
  if (Status s = RecoverJournalOf(target, &recovery); !s.ok()) return s;
  result.rolled_back = recovery.rolled_back;
  CrashPoint("after-open");

  FileSource& source = target.source();
  OverlayStream original(&source, /*read_only=*/true);
  // Writability is checked before the build only when the build finds
  // something to write: an up-to-date read-only file is not an error.
  OverlayStream edited(&source, /*read_only=*/false);
  auto built =
      BuildVerified(format, original, edited, desired, options.padding, path);
  if (!built.ok()) return built.status();
  if (built->unchanged) {
    result.after = target.identity();
    return result;
  }
  result.payload_proven_by_mapping = built->payload_proven_by_mapping;
  if (Status s = CheckWritable(target); !s.ok()) return s;
  CrashPoint("before-commit");

  // 6. Commit.
  if (Status s = edited.ShareUnchangedBytes(); !s.ok()) return s;
  CommitOptions commit{options.keep_mtime, options.before_commit};
  CommitStats stats;
  bool in_place = !options.copy_only && edited.PreservesOffsets();
  if (!in_place && target.identity().nlink > 1 && !options.break_hardlinks)
    return Status::Refused(path + ": has " +
                           std::to_string(target.identity().nlink) + " " +
                           kHardLinkRefusal +
                           "; writing a copy would detach this name from the "
                           "others (library option hardlinks: "
                           "break allows it)");
  Status s = in_place ? CommitInPlace(target, edited, commit, &stats)
                      : CommitByCopy(target, edited, commit, &stats);
  if (!s.ok()) return s;
  result.action =
      in_place ? WriteResult::Action::kInPlace : WriteResult::Action::kCopied;
  result.bytes_written = stats.bytes_written;
  result.after = stats.after;
  result.warnings = std::move(stats.warnings);
  return result;
}

}  // namespace nomtag
