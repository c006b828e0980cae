#include "scan/scanner.h"

#include <filesystem>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/mode_inference.h"
#include "core/original_keys.h"
#include "core/tag_set.h"
#include "io/file_source.h"
#include "io/overlay_stream.h"
#include "io/tree_walk.h"
#include "write/safe_write_projector.h"
#include "write/sidecar_names.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

// Commit in chunks so other processes are not kept waiting on the lock.
constexpr int kFilesPerTransaction = 500;

struct FileRead {
  const FormatPlugin* format;  // chosen by the content
  NamespaceRead nom;
};

// Reads the namespace of the file the walk saw at path; refuses a file
// that is not that one any more (replaced meanwhile, or reached through a
// link swapped in for a folder).
Result<FileRead> ReadNamespace(const PluginRegistry& registry,
                               const std::string& path,
                               const FileIdentity& walked) {
  auto source = FileSource::Open(path);
  if (!source.ok()) return source.status();
  if (!(*source)->identity().SameFile(walked))
    return Status::Conflict(path + ": replaced during the scan; not read");
  auto format = FormatForContent(registry, path, **source);
  if (!format.ok()) return format.status();
  OverlayStream stream(source->get(), /*read_only=*/true);
  auto nom = (*format)->ReadNamespace(*stream.stream());
  if (!nom.ok()) return nom.status();
  return FileRead{*format, std::move(*nom)};
}

struct Found {
  std::string rel;
  FileIdentity identity;
  const FormatPlugin* format;
};

// Device, inode, size and mtime: an inode freed by a deletion is soon
// reused, so the inode alone does not name a file.
using Identity = std::tuple<uint64_t, uint64_t, uint64_t, int64_t>;

class Scan {
 public:
  Scan(StorageDatabase& db, const PluginRegistry& registry,
       const Library& library, const std::function<void(int64_t)>& progress)
      : db_(db), registry_(registry), library_(library), progress_(progress) {}

  Result<ScanReport> Run() {
    std::error_code ec;
    if (!fs::is_directory(library_.root, ec))
      return Status::NotFound("library '" + library_.name + "': root " +
                              library_.root + " is not a readable folder" +
                              (ec ? " (" + ec.message() + ")" : ""));
    RecoverTree(library_.root, &report_.recovery);
    auto known = db_.Files(library_.id);
    if (!known.ok()) return known.status();
    known_ = std::move(*known);
    for (const auto& f : known_) by_path_[f.path] = &f;

    if (Status s = db_.Begin(); !s.ok()) return s;
    WalkVisitor visitor;
    visitor.entry = [this](const WalkEntry& e) {
      if (failure_.ok()) failure_ = Visit(e);
    };
    visitor.unreadable = [this](const std::string& rel,
                                const std::string& error) {
      report_.unseen.emplace_back(rel.empty() ? "." : rel, error);
      unseen_.push_back(rel);
    };
    Status walked = WalkTree(library_.root, visitor);
    if (walked.ok()) walked = failure_;
    if (walked.ok()) walked = Finish();
    if (!walked.ok()) {
      db_.Rollback();
      return walked.Prepend("library '" + library_.name + "'");
    }
    if (Status s = db_.Commit(); !s.ok()) return s;
    return report_;
  }

 private:
  Status Visit(const WalkEntry& e) {
    if (e.kind == WalkEntry::Kind::kSymlink) {
      ++report_.skipped;
      return Status::OK();
    }
    if (e.kind != WalkEntry::Kind::kFile || IsSidecarName(e.name))
      return Status::OK();
    auto format = FormatForPath(registry_, e.rel);
    if (!format.ok()) {
      ++report_.skipped;
      return Status::OK();
    }
    seen_.insert(e.rel);
    ++report_.seen;
    if (progress_) progress_(report_.seen);
    auto old = by_path_.find(e.rel);
    if (old == by_path_.end()) {
      // Recorded after the walk: it may be a file that moved here.
      fresh_.push_back({e.rel, e.identity, *format});
      return Status::OK();
    }
    return Record({e.rel, e.identity, *format}, old->second, &report_.updated);
  }

  // Records one file; old is its row, or null for a new one. Counts a
  // file read (not unchanged) in *counter, when given.
  Status Record(const Found& found, const StoredFile* old, int64_t* counter) {
    const FileIdentity& id = found.identity;
    if (old && !old->missing && old->size == id.size &&
        old->mtime_ns == id.mtime_ns && old->dev == id.dev &&
        old->ino == id.ino) {
      ++report_.unchanged;
      return Status::OK();
    }
    StoredFile file;
    file.path = found.rel;
    file.size = id.size;
    file.mtime_ns = id.mtime_ns;
    file.dev = id.dev;
    file.ino = id.ino;
    file.format = found.format->container();
    auto read = ReadNamespace(
        registry_, (fs::path(library_.root) / found.rel).string(), id);
    std::string inferred;
    TagSet original_scores;
    if (read.ok()) {
      file.format = read->format->container();
      file.has_namespace = !read->nom.tags.empty();
      file.namespace_digest = TagSetDigest(read->nom.tags);
      inferred = InferWriteMode(read->nom.tags);
      // A file new to the database that the original system scored: its
      // scores become the file's tags under nomtag's keys, so a library
      // tagged by the original keeps them (written back under valid keys
      // in full mode). Never over tags the database already holds.
      if (!old) original_scores = OriginalScores(read->nom.tags);
    } else {
      // Recorded anyway: reconciliation will report it with the error.
      report_.errors.emplace_back(found.rel, read.status().ToString());
    }
    if (Status s = db_.RecordFile(library_.id, file, inferred); !s.ok())
      return s;
    if (!original_scores.empty())
      if (Status s = db_.ReplaceTags(library_.id, file.path, original_scores);
          !s.ok())
        return s;
    if (counter) ++*counter;
    if (++in_transaction_ >= kFilesPerTransaction) {
      if (Status s = db_.Commit(); !s.ok()) return s;
      if (Status s = db_.Begin(); !s.ok()) return s;
      in_transaction_ = 0;
    }
    return Status::OK();
  }

  bool Unseen(const std::string& path) const {
    for (const auto& rel : unseen_)
      if (IsAtOrUnder(path, rel)) return true;
    return false;
  }

  // After the walk: new paths (taking over the rows of files that moved
  // there), then what is gone.
  Status Finish() {
    // Rows whose file is not where they say: present ones not seen (and
    // not under anything unreadable), and those already missing.
    std::map<Identity, const StoredFile*> gone_by_identity;
    std::unordered_set<int64_t> gone;
    for (const auto& f : known_) {
      if (seen_.count(f.path) || Unseen(f.path)) continue;
      if (!f.missing) gone.insert(f.id);
      if (f.ino == 0) continue;
      // Of two rows alike, the one that was present until now.
      auto& slot = gone_by_identity[{f.dev, f.ino, f.size, f.mtime_ns}];
      if (!slot || (slot->missing && !f.missing)) slot = &f;
    }
    for (const Found& found : fresh_) {
      const FileIdentity& id = found.identity;
      auto match =
          gone_by_identity.find({id.dev, id.ino, id.size, id.mtime_ns});
      const StoredFile* old = nullptr;
      if (match != gone_by_identity.end()) {
        old = match->second;
        gone_by_identity.erase(match);
        if (Status s = db_.MoveFile(old->id, found.rel); !s.ok()) return s;
        gone.erase(old->id);
        ++report_.moved;
        // Read again (the row may be marked missing); the namespace is
        // the one the row describes, so its state stays.
        StoredFile reread = *old;
        reread.missing = true;
        if (Status s = Record(found, &reread, nullptr); !s.ok()) return s;
        continue;
      }
      if (Status s = Record(found, nullptr, &report_.added); !s.ok()) return s;
    }
    std::vector<int64_t> ids(gone.begin(), gone.end());
    if (Status s = db_.MarkMissing(ids); !s.ok()) return s;
    report_.missing = static_cast<int64_t>(ids.size());
    return Status::OK();
  }

  StorageDatabase& db_;
  const PluginRegistry& registry_;
  const Library& library_;
  const std::function<void(int64_t)>& progress_;

  ScanReport report_;
  std::vector<StoredFile> known_;
  std::unordered_map<std::string, const StoredFile*> by_path_;
  std::unordered_set<std::string> seen_;
  std::vector<std::string> unseen_;
  std::vector<Found> fresh_;
  int in_transaction_ = 0;
  Status failure_;
};

}  // namespace

Result<ScanReport> ScanLibrary(StorageDatabase& db,
                               const PluginRegistry& registry,
                               const Library& library,
                               const std::function<void(int64_t)>& progress) {
  return Scan(db, registry, library, progress).Run();
}

}  // namespace nomtag
