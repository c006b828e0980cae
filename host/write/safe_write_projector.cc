#include "write/safe_write_projector.h"

#include <cstdio>
#include <filesystem>

#include "io/overlay_stream.h"
#include "io/target_file.h"
#include "write/group_write.h"
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

// The core hands over library.root joined with the file's path in the
// library; the file is opened beneath the root from that relative path.
Result<std::string> RelativeToRoot(const Library& library,
                                   const std::string& path) {
  std::string root = library.root;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  const std::string prefix = root == "/" ? root : root + "/";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix))
    return Status::Refused(path + ": not inside the library root " +
                           library.root + "; not written");
  return path.substr(prefix.size());
}

// The plugin for the file at path, by its content.
Result<const FormatPlugin*> FormatForFile(const PluginRegistry& registry,
                                          const std::string& path) {
  auto target = TargetFile::Open(path, TargetFile::Purpose::kRead);
  if (!target.ok()) return target.status();
  return FormatForContent(registry, path, (*target)->source());
}

}  // namespace

namespace {

// The library's options for a write through the gate.
WriteOptions OptionsFor(const Library& library, CommitGate& gate) {
  WriteOptions options;
  options.keep_mtime = library.keep_mtime;
  options.copy_only = library.copy_only;
  options.break_hardlinks = library.break_hardlinks;
  options.padding = library.padding;
  options.before_commit = [&gate] { return gate.MayCommit(); };
  return options;
}

// The handle of one file to write: opened beneath the root with no
// symbolic link on the way, and locked.
Status OpenForWrite(const PluginRegistry& registry, const Library& library,
                    const std::string& path, int wait_ms, bool* busy,
                    std::unique_ptr<TargetFile>* out) {
  if (auto named = FormatForPath(registry, path); !named.ok())
    return named.status();
  auto rel = RelativeToRoot(library, path);
  if (!rel.ok()) return rel.status();
  auto opened = TargetFile::OpenBeneath(
      library.root, *rel, TargetFile::Purpose::kWrite, wait_ms, busy);
  if (!opened.ok()) return opened.status();
  *out = std::move(*opened);
  return Status::OK();
}

// What the write measured (dev and inode 0: nothing, not known).
FileStamp StampOf(const FileIdentity& id) {
  if (id.dev == 0 && id.ino == 0) return {};
  return {true, id.size, id.mtime_ns, id.dev, id.ino};
}

void Report(const WriteResult& result, Projection* out) {
  for (const auto& w : result.warnings)
    std::fprintf(stderr, "nomtag: warning: %s\n", w.c_str());
  out->written = result.action != WriteResult::Action::kUnchanged;
  out->before = StampOf(result.before);
  out->after = StampOf(result.after);
}

}  // namespace

Status SafeWriteProjector::Project(const Library& library,
                                   const std::string& path,
                                   const TagSet& desired, CommitGate& gate,
                                   Projection* out) {
  std::vector<Projection> done;
  std::vector<Status> s = ProjectMany(library, {{path, desired, &gate}}, &done);
  *out = done.front();
  return s.front();
}

std::vector<Status> SafeWriteProjector::ProjectMany(
    const Library& library, const std::vector<Item>& items,
    std::vector<Projection>* out) {
  out->assign(items.size(), Projection{});
  std::vector<GroupWriteItem> group;
  for (const Item& item : items)
    group.push_back({item.desired, OptionsFor(library, *item.gate)});
  auto open = [&](size_t i, int wait_ms, bool* busy,
                  std::unique_ptr<TargetFile>* file) {
    return OpenForWrite(registry_, library, items[i].path, wait_ms, busy, file);
  };
  auto format = [&](size_t i, TargetFile& target) {
    return FormatForContent(registry_, items[i].path, target.source());
  };
  auto results = WriteInGroups(group, open, format);
  std::vector<Status> statuses(items.size());
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok())
      Report(*results[i], &(*out)[i]);
    else
      statuses[i] = results[i].status();
  }
  return statuses;
}

Result<TagSet> SafeWriteProjector::Read(const std::string& path) {
  auto format = FormatForFile(registry_, path);
  if (!format.ok()) return format.status();
  auto tags = ReadFileTags(**format, path);
  if (!tags.ok()) return tags.status();
  return tags->nom.tags;
}

}  // namespace nomtag
