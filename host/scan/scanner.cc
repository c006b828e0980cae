#include "scan/scanner.h"

#include <filesystem>
#include <unordered_map>

#include "core/mode_inference.h"
#include "io/file_source.h"
#include "io/overlay_stream.h"
#include "write/safe_write_projector.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

// Commit in chunks so other processes are not kept waiting on the lock.
constexpr int kFilesPerTransaction = 500;

Result<NamespaceRead> ReadNamespace(const FormatPlugin& format,
                                    const std::string& path) {
  auto source = FileSource::Open(path);
  if (!source.ok()) return source.status();
  OverlayStream stream(source->get(), /*read_only=*/true);
  return format.ReadNamespace(*stream.stream());
}

}  // namespace

Result<ScanReport> ScanLibrary(StorageDatabase& db,
                               const PluginRegistry& registry,
                               const Library& library,
                               const std::function<void(int64_t)>& progress) {
  std::error_code ec;
  if (!fs::is_directory(library.root, ec))
    return Status::NotFound("library '" + library.name + "': root " +
                            library.root + " is not a readable folder" +
                            (ec ? " (" + ec.message() + ")" : ""));
  ScanReport report;
  RecoverTree(library.root, &report.recovery);

  auto known = db.Files(library.id);
  if (!known.ok()) return known.status();
  std::unordered_map<std::string, const StoredFile*> by_path;
  for (const auto& f : *known) by_path[f.path] = &f;
  std::unordered_map<std::string, bool> seen;

  fs::recursive_directory_iterator it(
      library.root, fs::directory_options::skip_permission_denied, ec),
      end;
  if (ec)
    return Status::IoError("library '" + library.name + "': cannot read " +
                           library.root + ": " + ec.message());
  if (Status s = db.Begin(); !s.ok()) return s;
  int in_transaction = 0;
  for (; it != end; it.increment(ec)) {
    if (ec) {
      report.errors.emplace_back(it->path().string(), ec.message());
      ec.clear();
      continue;
    }
    const fs::directory_entry& entry = *it;
    if (entry.is_symlink(ec)) {
      ++report.skipped;
      continue;
    }
    if (!entry.is_regular_file(ec)) continue;
    const std::string name = entry.path().filename().string();
    if (name.find(".nomtag-") != std::string::npos) continue;  // sidecars
    auto format = FormatForPath(registry, entry.path().string());
    if (!format.ok()) {
      ++report.skipped;
      continue;
    }
    const std::string rel =
        entry.path().lexically_relative(library.root).string();
    seen[rel] = true;
    ++report.seen;
    if (progress) progress(report.seen);

    auto stat = StatPath(entry.path().string());
    if (!stat.ok()) {
      report.errors.emplace_back(rel, stat.status().message());
      continue;
    }
    auto old = by_path.find(rel);
    if (old != by_path.end() && !old->second->missing &&
        old->second->size == stat->size &&
        old->second->mtime_ns == stat->mtime_ns) {
      ++report.unchanged;
      continue;
    }
    StoredFile file;
    file.path = rel;
    file.size = stat->size;
    file.mtime_ns = stat->mtime_ns;
    file.format = (*format)->container();
    auto nom = ReadNamespace(**format, entry.path().string());
    std::string inferred;
    if (nom.ok()) {
      file.has_namespace = !nom->tags.empty();
      inferred = InferWriteMode(nom->tags);
    } else {
      // Recorded anyway: reconciliation will report it with the error.
      report.errors.emplace_back(rel, nom.status().ToString());
    }
    if (Status s = db.RecordFile(library.id, file, inferred); !s.ok()) {
      db.Rollback();
      return s;
    }
    ++(old == by_path.end() ? report.added : report.updated);
    if (++in_transaction >= kFilesPerTransaction) {
      if (Status s = db.Commit(); !s.ok()) return s;
      if (Status s = db.Begin(); !s.ok()) return s;
      in_transaction = 0;
    }
  }
  std::vector<int64_t> gone;
  for (const auto& f : *known)
    if (!f.missing && !seen.count(f.path)) gone.push_back(f.id);
  if (Status s = db.MarkMissing(gone); !s.ok()) {
    db.Rollback();
    return s;
  }
  report.missing = static_cast<int64_t>(gone.size());
  if (Status s = db.Commit(); !s.ok()) return s;
  return report;
}

}  // namespace nomtag
