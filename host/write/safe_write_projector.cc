#include "write/safe_write_projector.h"

#include <filesystem>

#include "io/file_source.h"
#include "io/overlay_stream.h"
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

Result<const FormatPlugin*> FormatForContent(const PluginRegistry& registry,
                                             const std::string& path,
                                             ByteSource& source) {
  auto hint = FormatForPath(registry, path);
  OverlayStream stream(&source, /*read_only=*/true);
  std::string errors;
  auto probe = [&](const FormatPlugin& f) {
    auto r = f.Probe(*stream.stream());
    if (!r.ok()) errors += "; " + r.status().message();
    return r.ok() && *r;
  };
  if (hint.ok() && probe(**hint)) return *hint;
  for (const auto& f : registry.formats())
    if ((!hint.ok() || &f != *hint) && probe(f)) return &f;
  return Status::Unsupported(
      path + ": the content is not a format any loaded plugin reads" +
      (hint.ok() ? " (not " + (*hint)->container() + " as its name says)"
                 : "") +
      errors);
}

namespace {

// The plugin for the file at path, by its content.
Result<const FormatPlugin*> FormatForFile(const PluginRegistry& registry,
                                          const std::string& path) {
  auto source = FileSource::Open(path);
  if (!source.ok()) return source.status();
  return FormatForContent(registry, path, **source);
}

}  // namespace

Status SafeWriteProjector::Project(const Library& library,
                                   const std::string& path,
                                   const TagSet& desired, bool* written) {
  *written = false;
  if (auto named = FormatForPath(registry_, path); !named.ok())
    return named.status();
  // What an interrupted write left is resolved before the content is
  // probed.
  RecoveryReport recovery;
  if (Status s = RecoverJournal(path, &recovery); !s.ok()) return s;
  auto format = FormatForFile(registry_, path);
  if (!format.ok()) return format.status();
  WriteOptions options;
  options.keep_mtime = library.keep_mtime;
  options.copy_only = library.copy_only;
  options.break_hardlinks = library.break_hardlinks;
  options.padding = library.padding;
  auto result = SafeWriteNamespace(**format, path, desired, options);
  if (!result.ok()) return result.status();
  *written = result->action != WriteResult::Action::kUnchanged;
  return Status::OK();
}

// A stat right after the write. Another program writing the file in
// between would be taken for nomtag's write by the next scan; the commit
// could hand back the identity it left instead (unfinished: commit.cc is
// being reworked).
FileStamp SafeWriteProjector::Stamp(const std::string& path) {
  auto id = StatPath(path);
  if (!id.ok()) return {};
  return {true, id->size, id->mtime_ns, id->dev, id->ino};
}

Result<TagSet> SafeWriteProjector::Read(const std::string& path) {
  auto format = FormatForFile(registry_, path);
  if (!format.ok()) return format.status();
  auto tags = ReadFileTags(**format, path);
  if (!tags.ok()) return tags.status();
  return tags->nom.tags;
}

}  // namespace nomtag
