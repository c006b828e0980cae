#include "write/safe_write.h"

#include <sys/stat.h>

#include <filesystem>

#include "io/file_source.h"
#include "io/overlay_stream.h"
#include "write/commit.h"
#include "write/fault_injection.h"
#include "write/verified_build.h"

namespace nomtag {
namespace {

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

  // Writability is checked before the build only when the build finds
  // something to write: an up-to-date read-only file is not an error.
  OverlayStream edited(&source, /*read_only=*/false);
  auto built =
      BuildVerified(format, original, edited, desired, options.padding, path);
  if (!built.ok()) return built.status();
  WriteResult result;
  if (built->unchanged) return result;
  result.payload_proven_by_mapping = built->payload_proven_by_mapping;
  if (Status s = CheckWritable(path, source.identity(), options); !s.ok())
    return s;

  // 6. Commit.
  if (Status s = edited.ShareUnchangedBytes(); !s.ok()) return s;
  CommitOptions commit{options.keep_mtime};
  CommitStats stats;
  bool in_place = !options.copy_only && edited.PreservesOffsets();
  if (!in_place && source.identity().nlink > 1 && !options.break_hardlinks)
    return Status::Refused(path + ": has " +
                           std::to_string(source.identity().nlink) + " " +
                           kHardLinkRefusal +
                           "; writing a copy would detach this name from the "
                           "others (library option hardlinks: "
                           "break allows it)");
  // Last: nothing may run between this check and the first byte.
  if (options.before_commit)
    if (Status gate = options.before_commit(); !gate.ok()) return gate;
  Status s = in_place ? CommitInPlace(path, source, edited, commit, &stats)
                      : CommitByCopy(path, source, edited, commit, &stats);
  if (!s.ok()) return s;
  result.action =
      in_place ? WriteResult::Action::kInPlace : WriteResult::Action::kCopied;
  result.bytes_written = stats.bytes_written;
  return result;
}

}  // namespace nomtag
