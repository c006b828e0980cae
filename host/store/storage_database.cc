#include "store/storage_database.h"

#include <chrono>
#include <cstddef>

#include "core/plugin_error.h"

namespace nomtag {
namespace {

using ErrorBuffer = PluginErrorBuffer;

Status FromPlugin(nomtag_status st, const ErrorBuffer& eb,
                  const std::string& what) {
  return StatusFromPlugin(st, what, eb.text);
}

Library FromInfo(const nomtag_library_info& info) {
  Library lib;
  lib.id = info.id;
  lib.name = info.name;
  lib.root = info.root;
  auto mode = ParseWriteMode(info.file_write_mode);
  lib.mode = mode.ok() ? *mode : WriteMode::kFull;
  lib.keep_mtime = info.keep_mtime != 0;
  lib.copy_only = std::string(info.write_strategy) == "copy";
  lib.break_hardlinks = std::string(info.hardlinks) == "break";
  if (NOMTAG_HAS_FIELD(&info, nomtag_library_info, padding))
    lib.padding = info.padding;
  return lib;
}

nomtag_library_info ToInfo(const Library& lib) {
  return {sizeof(nomtag_library_info),
          lib.id,
          lib.name.c_str(),
          lib.root.c_str(),
          WriteModeName(lib.mode),
          lib.keep_mtime ? 1 : 0,
          lib.copy_only ? "copy" : "auto",
          lib.break_hardlinks ? "break" : "keep",
          lib.padding};
}

nomtag_status AddTagValue(void* ctx, const char* key, size_t key_len,
                          const char* value, size_t value_len,
                          nomtag_key_encoding) {
  (*static_cast<TagSet*>(ctx))[std::string(key, key_len)].emplace_back(
      value, value_len);
  return NOMTAG_OK;
}

}  // namespace

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<StorageDatabase>> StorageDatabase::Open(
    const StoragePluginRef& plugin, const std::string& database,
    const OpenOptions& options) {
  ErrorBuffer eb;
  nomtag_storage_db* db = nullptr;
  const char* name = database.empty() ? nullptr : database.c_str();
  nomtag_status st;
  if (plugin.table->struct_size >=
      offsetof(nomtag_storage, open_v2) + sizeof(void*)) {
    nomtag_open_options o{sizeof o, 0, options.wait_ms};
    if (options.access == OpenOptions::Access::kRead)
      o.flags |= NOMTAG_OPEN_READ_ONLY;
    if (options.access == OpenOptions::Access::kCreate)
      o.flags |= NOMTAG_OPEN_CREATE;
    st = plugin.table->open_v2(name, &o, &db, &eb.err);
  } else {
    st = plugin.table->open(name, &db, &eb.err);  // before ABI 1.2
  }
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "opening the database");
  return std::unique_ptr<StorageDatabase>(new StorageDatabase(plugin, db));
}

StorageDatabase::StorageDatabase(StoragePluginRef plugin, nomtag_storage_db* db)
    : plugin_(std::move(plugin)), t_(plugin_.table), db_(db) {
  location_ = t_->location(db_);
}

StorageDatabase::~StorageDatabase() { t_->close(db_); }

bool StorageDatabase::Has(size_t entry_offset) const {
  return t_->struct_size >= entry_offset + sizeof(void*);
}

static Status NeedsAbi12(const char* what) {
  return Status::Unsupported(std::string("the storage plugin predates ABI "
                                         "1.2 and cannot ") +
                             what);
}

Result<std::string> StorageDatabase::StartWorker() {
  if (!Has(offsetof(nomtag_storage, worker_start)))
    return NeedsAbi12("prove a worker alive");
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  char buf[512];
  nomtag_status st = t_->worker_start(db_, buf, sizeof buf, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "starting a worker");
  return std::string(buf);
}

Result<bool> StorageDatabase::CheckClaim(const ClaimedFile& file,
                                         int64_t lease_ms) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return CheckClaimLocked(file, lease_ms);
}

std::vector<Result<bool>> StorageDatabase::CheckClaims(
    const std::vector<const ClaimedFile*>& files, int64_t lease_ms) {
  if (files.size() > 1) {
    auto out = InOneTransaction(files.size(), [&](size_t i) {
      return CheckClaimLocked(*files[i], lease_ms);
    });
    if (!out.empty()) return out;
  }
  // One at a time: each file's own error.
  return TagStore::CheckClaims(files, lease_ms);
}

std::vector<Result<bool>> StorageDatabase::InOneTransaction(
    size_t n, const std::function<Result<bool>(size_t)>& one) {
  // Held for the whole transaction: the connection is shared by the run's
  // threads and its heartbeat, and none may run a statement inside it.
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  if (t_->begin(db_, &eb.err) != NOMTAG_OK) return {};
  std::vector<Result<bool>> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(one(i));
    if (!out.back().ok()) {
      t_->rollback(db_);
      return {};
    }
  }
  if (t_->commit(db_, &eb.err) == NOMTAG_OK) return out;
  t_->rollback(db_);
  return {};
}

Result<bool> StorageDatabase::CheckClaimLocked(const ClaimedFile& file,
                                               int64_t lease_ms) {
  // Without the check no write is allowed: the rule is no write without a
  // claim valid at that moment.
  if (!Has(offsetof(nomtag_storage, claim_check)))
    return NeedsAbi12("check a claim before a write");
  ErrorBuffer eb;
  int32_t held = 0;
  nomtag_status st = t_->claim_check(db_, file.id, file.claim_token, lease_ms,
                                     NowMs(), &held, &eb.err);
  if (st != NOMTAG_OK)
    return FromPlugin(st, eb, "checking the claim on " + file.path);
  return held != 0;
}

Status StorageDatabase::RenewClaims(const std::string& worker,
                                    int64_t lease_ms) {
  if (!Has(offsetof(nomtag_storage, claims_renew)))
    return NeedsAbi12("renew claims");
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  int64_t renewed = 0;
  return FromPlugin(t_->claims_renew(db_, worker.c_str(), lease_ms, NowMs(),
                                     &renewed, &eb.err),
                    eb, "renewing claims");
}

Result<std::vector<ClaimHolder>> StorageDatabase::ClaimHolders(
    int64_t library_id) {
  if (!Has(offsetof(nomtag_storage, claim_holders)))
    return std::vector<ClaimHolder>{};
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  std::vector<ClaimHolder> out;
  nomtag_claim_holder_sink sink{
      sizeof sink, &out,
      [](void* ctx, const nomtag_claim_holder* h) -> nomtag_status {
        static_cast<std::vector<ClaimHolder>*>(ctx)->push_back(
            {h->worker_id, h->files, h->expires_ms, h->alive != 0});
        return NOMTAG_OK;
      }};
  nomtag_status st = t_->claim_holders(db_, library_id, &sink, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "listing claim holders");
  return out;
}

Result<int64_t> StorageDatabase::AddLibrary(const Library& library) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  nomtag_library_info info = ToInfo(library);
  int64_t id = 0;
  nomtag_status st = t_->library_add(db_, &info, &id, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "adding library");
  return id;
}

Result<std::vector<Library>> StorageDatabase::Libraries() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  std::vector<Library> out;
  nomtag_library_sink sink{
      sizeof sink, &out,
      [](void* ctx, const nomtag_library_info* info) -> nomtag_status {
        static_cast<std::vector<Library>*>(ctx)->push_back(FromInfo(*info));
        return NOMTAG_OK;
      }};
  nomtag_status st = t_->library_list(db_, &sink, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "listing libraries");
  for (auto& lib : out)
    if (auto local = local_roots_.find(lib.name); local != local_roots_.end())
      lib.root = local->second;
  return out;
}

Result<Library> StorageDatabase::FindLibrary(const std::string& name_or_id) {
  auto all = Libraries();
  if (!all.ok()) return all.status();
  for (const auto& lib : *all)
    if (lib.name == name_or_id || std::to_string(lib.id) == name_or_id)
      return lib;
  std::string names;
  for (const auto& lib : *all) names += (names.empty() ? "" : ", ") + lib.name;
  return Status::NotFound("no library '" + name_or_id + "' (known: " +
                          (names.empty() ? "none; add one with `nomtag "
                                           "library add NAME ROOT`"
                                         : names) +
                          ")");
}

Result<int64_t> StorageDatabase::UpdateLibrary(const Library& library) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  nomtag_library_info info = ToInfo(library);
  int64_t affected = 0;
  nomtag_status st = t_->library_update(db_, &info, &affected, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "updating library");
  return affected;
}

Status StorageDatabase::RemoveLibrary(int64_t library_id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (!NOMTAG_HAS_FIELD(t_, nomtag_storage, library_remove) ||
      t_->library_remove == nullptr)
    return Status::Unsupported(
        "the storage plugin predates ABI 1.5: it cannot remove a library "
        "(update the plugin)");
  ErrorBuffer eb;
  return FromPlugin(t_->library_remove(db_, library_id, &eb.err), eb,
                    "removing library " + std::to_string(library_id));
}

Result<std::vector<StoredFile>> StorageDatabase::Files(int64_t library_id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  std::vector<StoredFile> out;
  nomtag_file_sink sink{
      sizeof sink, &out,
      [](void* ctx, const nomtag_file_info* f) -> nomtag_status {
        StoredFile s;
        s.id = f->id;
        s.path = f->path;
        s.size = f->size;
        s.mtime_ns = f->mtime_ns;
        s.format = f->format ? f->format : "";
        s.has_namespace = f->has_namespace != 0;
        s.last_written_mode = f->inferred_mode ? f->inferred_mode : "";
        s.missing = f->missing != 0;
        if (NOMTAG_HAS_FIELD(f, nomtag_file_info, inode)) {
          s.dev = f->dev;
          s.ino = f->inode;
        }
        static_cast<std::vector<StoredFile>*>(ctx)->push_back(std::move(s));
        return NOMTAG_OK;
      }};
  nomtag_status st = t_->file_list(db_, library_id, &sink, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "listing files");
  return out;
}

Status StorageDatabase::RecordFile(int64_t library_id, const StoredFile& file,
                                   const std::string& inferred_mode) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  nomtag_file_info info{
      sizeof info,
      file.id,
      file.path.c_str(),
      file.size,
      file.mtime_ns,
      file.format.c_str(),
      file.has_namespace ? 1 : 0,
      inferred_mode.empty() ? nullptr : inferred_mode.c_str(),
      0,
      file.dev,
      file.ino,
      file.namespace_digest.empty() ? nullptr : file.namespace_digest.c_str()};
  return FromPlugin(t_->file_record(db_, library_id, &info, &eb.err), eb,
                    "recording " + file.path);
}

Status StorageDatabase::MarkMissing(const std::vector<int64_t>& ids) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  return FromPlugin(t_->file_mark_missing(db_, ids.data(), ids.size(), &eb.err),
                    eb, "marking files missing");
}

Status StorageDatabase::MoveFile(int64_t file_id, const std::string& new_path) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (!NOMTAG_HAS_FIELD(t_, nomtag_storage, file_move))
    return Status::Unsupported(
        "the storage plugin predates ABI 1.3: it cannot move a file's row");
  ErrorBuffer eb;
  return FromPlugin(t_->file_move(db_, file_id, new_path.c_str(), &eb.err), eb,
                    "moving a row to " + new_path);
}

Status StorageDatabase::ReplaceTags(int64_t library_id, const std::string& path,
                                    const TagSet& tags) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<std::vector<nomtag_string>> values;
  std::vector<nomtag_tag> list;
  values.reserve(tags.size());
  for (const auto& [key, vals] : tags) {
    auto& v = values.emplace_back();
    for (const auto& s : vals) v.push_back({s.data(), s.size()});
    list.push_back(
        {sizeof(nomtag_tag), {key.data(), key.size()}, v.data(), v.size()});
  }
  ErrorBuffer eb;
  return FromPlugin(t_->tags_replace(db_, library_id, path.c_str(), list.data(),
                                     list.size(), &eb.err),
                    eb, "storing tags of " + path);
}

Status StorageDatabase::SetCalibration(const std::string& hash,
                                       const std::string& definition) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  return FromPlugin(
      t_->calibration_set(db_, hash.empty() ? nullptr : hash.c_str(),
                          definition.c_str(), &eb.err),
      eb, "storing the calibration");
}

Status StorageDatabase::Begin() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  return FromPlugin(t_->begin(db_, &eb.err), eb, "begin");
}
Status StorageDatabase::Commit() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  return FromPlugin(t_->commit(db_, &eb.err), eb, "commit");
}
void StorageDatabase::Rollback() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  t_->rollback(db_);
}

Result<LibraryStatus> StorageDatabase::StatusOf(int64_t library_id,
                                                int64_t lease_ms) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  nomtag_library_status s{sizeof s, 0, 0, 0, 0, 0, -1};
  nomtag_status st =
      t_->library_status(db_, library_id, lease_ms, NowMs(), &s, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "reading status");
  LibraryStatus out{s.files,  s.missing, s.pending, s.in_progress,
                    s.failed, s.folders, {}};
  nomtag_failure_sink sink{
      sizeof sink, &out.failures,
      [](void* ctx, const char* path, const char* error) -> nomtag_status {
        static_cast<std::vector<std::pair<std::string, std::string>>*>(ctx)
            ->emplace_back(path, error);
        return NOMTAG_OK;
      }};
  st = t_->failure_list(db_, library_id, &sink, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "listing failures");
  return out;
}

Result<std::string> StorageDatabase::CalibrationHash() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  char buf[512];
  nomtag_status st = t_->calibration_get(db_, buf, sizeof buf, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "reading the calibration");
  return std::string(buf);
}

Result<std::vector<ClaimedFile>> StorageDatabase::ClaimBatch(
    int64_t library_id, const std::string& worker, uint32_t batch,
    int64_t lease_ms) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  std::vector<ClaimedFile> out;
  nomtag_claim_sink sink{
      sizeof sink, &out,
      [](void* ctx, const nomtag_claimed_file* f) -> nomtag_status {
        static_cast<std::vector<ClaimedFile>*>(ctx)->push_back(
            {f->file_id, f->path, f->claim_token, f->tags_rev});
        return NOMTAG_OK;
      }};
  nomtag_status st = t_->claim_batch(db_, library_id, worker.c_str(), batch,
                                     lease_ms, NowMs(), &sink, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "claiming files");
  return out;
}

Result<std::vector<PendingFile>> StorageDatabase::ListPending(
    int64_t library_id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  std::vector<PendingFile> out;
  nomtag_file_sink sink{
      sizeof sink, &out,
      [](void* ctx, const nomtag_file_info* f) -> nomtag_status {
        static_cast<std::vector<PendingFile>*>(ctx)->push_back(
            {f->id, f->path});
        return NOMTAG_OK;
      }};
  nomtag_status st = t_->pending_list(db_, library_id, &sink, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "listing pending files");
  return out;
}

Result<TagSet> StorageDatabase::FileTags(int64_t file_id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  TagSet tags;
  nomtag_tag_sink sink{sizeof sink, &tags, AddTagValue};
  nomtag_status st = t_->tags_get(db_, file_id, &sink, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "reading tags");
  for (const auto& [key, values] : tags)
    if (!IsValidTagKey(key))
      return Status::Corrupt("the database holds an invalid key '" + key +
                             "' for file " + std::to_string(file_id));
  return tags;
}

void StorageDatabase::ReadTogether(const std::function<void()>& reads) {
  // The SDK has one kind of transaction, a writing one (BEGIN IMMEDIATE
  // on SQLite): held for a group's reads only, a few milliseconds, as the
  // group's claim check and records hold theirs. A read-only begin in the
  // SDK would let other processes write meanwhile.
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  const bool open = t_->begin(db_, &eb.err) == NOMTAG_OK;
  reads();
  // Nothing was written: the end of the transaction only lets go of it.
  if (open && t_->commit(db_, &eb.err) != NOMTAG_OK) t_->rollback(db_);
}

Result<bool> StorageDatabase::SetWritten(const ClaimedFile& file,
                                         WriteMode mode,
                                         const std::string& calibration_hash,
                                         bool has_namespace,
                                         const FileStamp& before,
                                         const FileStamp& after,
                                         const std::string& namespace_digest) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return SetWrittenLocked(
      {&file, has_namespace, before, after, namespace_digest}, mode,
      calibration_hash);
}

std::vector<Result<bool>> StorageDatabase::SetWrittenAll(
    const std::vector<Written>& records, WriteMode mode,
    const std::string& calibration_hash) {
  if (records.size() > 1) {
    auto out = InOneTransaction(records.size(), [&](size_t i) {
      return SetWrittenLocked(records[i], mode, calibration_hash);
    });
    if (!out.empty()) return out;
  }
  // One at a time: each record's own error (or a store without
  // transactions working).
  return TagStore::SetWrittenAll(records, mode, calibration_hash);
}

Result<bool> StorageDatabase::SetWrittenLocked(
    const Written& w, WriteMode mode, const std::string& calibration_hash) {
  const ClaimedFile& file = *w.file;
  const FileStamp& after = w.after;
  // Carried only together: an analysis moves to the stamp the write left
  // from the one it found, never to or from an unknown one.
  const bool carry = w.before.known && after.known;
  ErrorBuffer eb;
  int32_t recorded = 0;
  nomtag_status st;
  if (NOMTAG_HAS_FIELD(t_, nomtag_storage, set_written_v2)) {
    // A plugin built before ABI 1.8 reads the struct only up to the
    // fields it knows: it records the write and leaves analyses due.
    nomtag_written_info info{
        sizeof info,
        file.id,
        file.claim_token,
        WriteModeName(mode),
        calibration_hash.c_str(),
        file.tags_rev,
        w.has_namespace ? 1 : 0,
        NowMs(),
        after.known ? after.size : 0,
        after.known ? after.mtime_ns : 0,
        after.known ? after.dev : 0,
        after.known ? after.ino : 0,
        w.namespace_digest.empty() ? nullptr : w.namespace_digest.c_str(),
        carry ? w.before.size : 0,
        carry ? w.before.mtime_ns : 0};
    st = t_->set_written_v2(db_, &info, &recorded, &eb.err);
  } else {
    st = t_->set_written(db_, file.id, file.claim_token, WriteModeName(mode),
                         calibration_hash.c_str(), file.tags_rev,
                         w.has_namespace ? 1 : 0, NowMs(), &recorded, &eb.err);
  }
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "recording " + file.path);
  return recorded != 0;
}

Status StorageDatabase::ReleaseClaim(const ClaimedFile& file,
                                     const std::string& error) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  return FromPlugin(
      t_->release_claim(db_, file.id, file.claim_token,
                        error.empty() ? nullptr : error.c_str(), &eb.err),
      eb, "releasing " + file.path);
}

Result<int64_t> StorageDatabase::CountPending(int64_t library_id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  ErrorBuffer eb;
  int64_t n = 0;
  nomtag_status st = t_->count_pending(db_, library_id, &n, &eb.err);
  if (st != NOMTAG_OK) return FromPlugin(st, eb, "counting pending files");
  return n;
}

}  // namespace nomtag
