// StorageDatabase: one open database of a storage plugin, as host types.
//
// Wraps the plugin's nomtag_storage table (keeping the plugin loaded) and
// implements the core's TagStore on top, plus what the commands need
// (libraries, scanning, imports, calibration, status). Calls are
// serialised by a mutex, so one StorageDatabase may serve several worker
// threads; open one per process.
#ifndef NOMTAG_STORE_STORAGE_DATABASE_H_
#define NOMTAG_STORE_STORAGE_DATABASE_H_

#include <nomtag/storage.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/library.h"
#include "core/status.h"
#include "core/tag_store.h"
#include "plugins/plugin_registry.h"

namespace nomtag {

// A file row as the scanner sees it.
struct StoredFile {
  int64_t id = 0;
  std::string path;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  std::string format;
  bool has_namespace = false;
  std::string last_written_mode;  // "" when never written / no keys
  bool missing = false;
  uint64_t dev = 0, ino = 0;  // 0: unknown (recorded before ABI 1.3)
  // Set when recording: the digest of the namespace read (TagSetDigest),
  // "" when it was not read.
  std::string namespace_digest;
};

struct LibraryStatus {
  int64_t files = 0, missing = 0, pending = 0, in_progress = 0, failed = 0;
  int64_t folders = -1;  // holding present files; -1: the plugin predates 1.5
  std::vector<std::pair<std::string, std::string>> failures;  // path, error
};

// How a command opens the database.
struct OpenOptions {
  enum class Access {
    kRead,    // reads only: nothing in or beside the database changes
    kWrite,   // an existing nomtag database, upgraded when needed
    kCreate,  // kWrite, creating the database when it does not exist
  };
  Access access = Access::kWrite;
  int64_t wait_ms = -1;  // for another process's lock; < 0: the plugin's
};

// What makes an inference plugin's results current for a file.
struct AnalysisKey {
  std::string plugin_id, version, settings_digest;
};

// One analysis of one file, to be stored.
struct AnalysisOutcome {
  std::string error;             // non-empty: the file could not be analysed
  std::vector<HeadScore> heads;  // plugin_id unused
  std::vector<DescriptorValue> descriptors;
  std::string embedding_model;
  std::vector<float> embedding;
  double audio_seconds = 0;
};

struct AnalysisCounts {
  int64_t analysed = 0, due = 0, failed = 0, in_progress = 0;
  std::vector<std::pair<std::string, std::string>> failures;  // path, reason
};

class StorageDatabase : public TagStore {
 public:
  // Opens database (empty: the plugin's configured or default location).
  // A file that is not a nomtag database is refused and left unchanged.
  static Result<std::unique_ptr<StorageDatabase>> Open(
      const StoragePluginRef& plugin, const std::string& database,
      const OpenOptions& options = {});
  ~StorageDatabase() override;

  const std::string& location() const { return location_; }
  // The plugin that opened it (to open another handle on the same one).
  const StoragePluginRef& plugin() const { return plugin_; }

  // This machine's mount of each named library's root (plugins.yaml
  // `roots:`): Libraries and FindLibrary report it instead of the stored
  // root. Paths of files stay relative to the root, so several machines
  // share one database whatever their mounts.
  void SetLocalRoots(std::map<std::string, std::string> roots) {
    local_roots_ = std::move(roots);
  }
  const std::map<std::string, std::string>& local_roots() const {
    return local_roots_;
  }

  // Libraries, found by name or by numeric id.
  Result<int64_t> AddLibrary(const Library& library);
  Result<std::vector<Library>> Libraries();
  Result<Library> FindLibrary(const std::string& name_or_id);
  // Saves mode and options; returns how many files need reconciliation.
  Result<int64_t> UpdateLibrary(const Library& library);
  // Forgets a library and its files' rows (tags, analyses); never touches
  // a file. Refused while a live worker claims one of its files.
  // Unsupported, saying so, when the storage plugin predates ABI 1.5.
  Status RemoveLibrary(int64_t library_id);

  Result<std::vector<StoredFile>> Files(int64_t library_id);
  Status RecordFile(int64_t library_id, const StoredFile& file,
                    const std::string& inferred_mode);
  Status MarkMissing(const std::vector<int64_t>& ids);
  // Gives the row of a file gone from its old path the path new_path,
  // keeping its tags and state (a move or rename within the library).
  // Unsupported when the plugin predates ABI 1.3.
  Status MoveFile(int64_t file_id, const std::string& new_path);
  Status ReplaceTags(int64_t library_id, const std::string& path,
                     const TagSet& tags);
  Status SetCalibration(const std::string& hash, const std::string& definition);
  Status Begin();
  Status Commit();
  void Rollback();

  Result<LibraryStatus> StatusOf(int64_t library_id, int64_t lease_ms);

  // Analysis (storage_database_analysis.cc). Unsupported when the storage
  // plugin predates ABI 1.4.
  bool SupportsAnalysis() const;
  Result<std::vector<ClaimedFile>> ClaimAnalysis(
      int64_t library_id, const AnalysisKey& key, int64_t force_since_ms,
      const std::string& worker, uint32_t batch, int64_t lease_ms);
  Result<std::vector<StoredFile>> AnalysisDue(int64_t library_id,
                                              const AnalysisKey& key,
                                              int64_t force_since_ms);
  // False (nothing stored) when another worker owns the file now.
  Result<bool> RecordAnalysis(const ClaimedFile& file, const AnalysisKey& key,
                              const AnalysisOutcome& outcome);
  Status ReleaseAnalysis(const ClaimedFile& file, const AnalysisKey& key);
  Result<FileAnalysis> AnalysisOf(int64_t file_id);
  // Every stored head output of the library's present files (library 0:
  // of every library), streamed.
  Status ForEachHead(int64_t library_id,
                     const std::function<void(const HeadScore&)>& fn);
  Result<AnalysisCounts> AnalysisStatusOf(int64_t library_id,
                                          const AnalysisKey& key,
                                          int64_t lease_ms);
  // The active calibration's definition ("" for none).
  Result<std::string> CalibrationDefinition();

  // Copies every row of this database (libraries, files with their written
  // state, tags, calibration, analyses; not claims) into target, which
  // must be empty, in one transaction on target: all or nothing
  // (storage_database_copy.cc). Refused while a live worker holds claims
  // here. progress(table, done, total) is called as rows go; counts gets
  // the rows copied per table. Unsupported when either plugin predates
  // ABI 1.7.
  using CopyProgress =
      std::function<void(const std::string&, int64_t, int64_t)>;
  Status CopyInto(StorageDatabase& target, const CopyProgress& progress,
                  std::vector<std::pair<std::string, int64_t>>* counts);

  // TagStore.
  Result<std::string> CalibrationHash() override;
  Result<std::string> StartWorker() override;
  Result<bool> CheckClaim(const ClaimedFile& file, int64_t lease_ms) override;
  std::vector<Result<bool>> CheckClaims(
      const std::vector<const ClaimedFile*>& files, int64_t lease_ms) override;
  Status RenewClaims(const std::string& worker, int64_t lease_ms) override;
  Result<std::vector<ClaimHolder>> ClaimHolders(int64_t library_id) override;
  Result<std::vector<ClaimedFile>> ClaimBatch(int64_t library_id,
                                              const std::string& worker,
                                              uint32_t batch,
                                              int64_t lease_ms) override;
  Result<std::vector<PendingFile>> ListPending(int64_t library_id) override;
  Result<TagSet> FileTags(int64_t file_id) override;
  void ReadTogether(const std::function<void()>& reads) override;
  Result<bool> SetWritten(const ClaimedFile& file, WriteMode mode,
                          const std::string& calibration_hash,
                          bool has_namespace, const FileStamp& before,
                          const FileStamp& after,
                          const std::string& namespace_digest) override;
  std::vector<Result<bool>> SetWrittenAll(
      const std::vector<Written>& records, WriteMode mode,
      const std::string& calibration_hash) override;
  Status ReleaseClaim(const ClaimedFile& file,
                      const std::string& error) override;
  Result<int64_t> CountPending(int64_t library_id) override;

 private:
  StorageDatabase(StoragePluginRef plugin, nomtag_storage_db* db);
  // one(i) for each i in [0, n), in one transaction with mu_ held. Empty
  // when the transaction could not be made or one(i) failed (then nothing
  // of it stays): the caller does each on its own, for each its own error.
  std::vector<Result<bool>> InOneTransaction(
      size_t n, const std::function<Result<bool>(size_t)>& one);
  // CheckClaim of one file with mu_ held.
  Result<bool> CheckClaimLocked(const ClaimedFile& file, int64_t lease_ms);
  // SetWritten of one record with mu_ held.
  Result<bool> SetWrittenLocked(const Written& w, WriteMode mode,
                                const std::string& calibration_hash);
  // Whether the plugin's table holds the entry at offset (a later ABI).
  bool Has(size_t entry_offset) const;

  StoragePluginRef plugin_;
  const nomtag_storage* t_;
  nomtag_storage_db* db_;
  std::string location_;
  std::map<std::string, std::string> local_roots_;
  // One statement (or transaction) at a time on the shared connection.
  // Recursive, so that ReadTogether's transaction can hold it around
  // calls that take it themselves.
  std::recursive_mutex mu_;
};

int64_t NowMs();

}  // namespace nomtag

#endif  // NOMTAG_STORE_STORAGE_DATABASE_H_
