#include "write/safe_write_projector.h"

#include <filesystem>

#include "write/recovery.h"
#include "write/safe_write.h"

namespace nomtag {

Result<const FormatPlugin*> FormatForPath(const PluginRegistry& registry,
                                          const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(c));
  if (const FormatPlugin* f = registry.FormatForExtension(ext)) return f;
  std::string known;
  for (const auto& f : registry.formats())
    for (const auto& e : f.extensions())
      known += (known.empty() ? "" : ", ") + e;
  return Status::Unsupported(
      path + ": no format plugin handles '." + ext +
      "' files (loaded: " + (known.empty() ? "none" : known) + ")");
}

Status SafeWriteProjector::Project(const Library& library,
                                   const std::string& path,
                                   const TagSet& desired, CommitGate& gate,
                                   bool* written) {
  *written = false;
  auto format = FormatForPath(registry_, path);
  if (!format.ok()) return format.status();
  RecoveryReport recovery;
  if (Status s = RecoverJournal(path, &recovery); !s.ok()) return s;
  WriteOptions options;
  options.keep_mtime = library.keep_mtime;
  options.copy_only = library.copy_only;
  options.break_hardlinks = library.break_hardlinks;
  options.padding = library.padding;
  options.before_commit = [&gate] { return gate.MayCommit(); };
  auto result = SafeWriteNamespace(**format, path, desired, options);
  if (!result.ok()) return result.status();
  *written = result->action != WriteResult::Action::kUnchanged;
  return Status::OK();
}

Result<TagSet> SafeWriteProjector::Read(const std::string& path) {
  auto format = FormatForPath(registry_, path);
  if (!format.ok()) return format.status();
  auto tags = ReadFileTags(**format, path);
  if (!tags.ok()) return tags.status();
  return tags->nom.tags;
}

}  // namespace nomtag
