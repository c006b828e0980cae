// TagStore: what reconciliation needs from the database, and nothing more.
//
// The storage plugin is the real one (host/store/); tests use an in-memory
// fake. Every method may be called from several threads at once.
#ifndef NOMTAG_CORE_TAG_STORE_H_
#define NOMTAG_CORE_TAG_STORE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/file_stamp.h"
#include "core/library.h"
#include "core/status.h"
#include "core/tag_set.h"

namespace nomtag {

struct ClaimedFile {
  int64_t id = 0;
  std::string path;  // relative to the library root
  int64_t claim_token = 0;
  int64_t tags_rev = 0;
};

// A worker holding claims on files of a library that need reconciliation.
struct ClaimHolder {
  std::string worker;
  int64_t files = 0;
  int64_t expires_ms = 0;  // latest expiry of its claims (ms since epoch)
  bool alive = false;      // its liveness lock is held
};

struct PendingFile {
  int64_t id = 0;
  std::string path;
};

class TagStore {
 public:
  virtual ~TagStore() = default;

  // The active calibration's hash; empty when none is active.
  virtual Result<std::string> CalibrationHash() = 0;

  // Makes this process a worker: a lock proves it alive for as long as
  // the store is open. Returns the id to claim with. Claims of a worker
  // whose lock is free are taken over at once by others.
  virtual Result<std::string> StartWorker() = 0;

  // Claims up to batch files of the library that need reconciliation,
  // each until now + lease_ms (the expiry is stored with the claim). Skips
  // files under an unexpired claim of a live worker, and never returns
  // one the worker already holds.
  virtual Result<std::vector<ClaimedFile>> ClaimBatch(int64_t library_id,
                                                      const std::string& worker,
                                                      uint32_t batch,
                                                      int64_t lease_ms) = 0;

  // The gate before a commit: true when the claim still holds the file
  // (its lease then runs lease_ms from now), false when another worker
  // took it over and nothing may be written.
  virtual Result<bool> CheckClaim(const ClaimedFile& file,
                                  int64_t lease_ms) = 0;

  // CheckClaim for each file, in one transaction where the store has one
  // (a group's gate: one database write before the group's first byte, not
  // one per file); one result per file, in order.
  virtual std::vector<Result<bool>> CheckClaims(
      const std::vector<const ClaimedFile*>& files, int64_t lease_ms) {
    std::vector<Result<bool>> out;
    for (const ClaimedFile* file : files)
      out.push_back(CheckClaim(*file, lease_ms));
    return out;
  }

  // Extends every claim the worker holds to now + lease_ms.
  virtual Status RenewClaims(const std::string& worker, int64_t lease_ms) = 0;

  // Who holds claims on the library's files that need reconciliation.
  virtual Result<std::vector<ClaimHolder>> ClaimHolders(int64_t library_id) = 0;

  // What needs reconciliation, without claiming (dry runs).
  virtual Result<std::vector<PendingFile>> ListPending(int64_t library_id) = 0;

  virtual Result<TagSet> FileTags(int64_t file_id) = 0;

  // Runs reads, whose calls only read the store (FileTags, a file's
  // analyses), in one transaction where the store has them: one lock
  // taken for a group of files rather than one per query. The reads
  // report their own errors; a store that cannot open the transaction
  // runs them as they are.
  virtual void ReadTogether(const std::function<void()>& reads) { reads(); }

  // Records a successful projection: the mode and calibration written,
  // what the file looked like afterwards (after) and the digest of the
  // namespace it now holds (TagSetDigest). Analyses stored at exactly the
  // size and mtime the write found (before) move to after's, in the same
  // transaction: the write changed no audio, so they stay current, while
  // one made before someone else changed the file stays due. Returns
  // false (and records nothing) when the claim token no longer matches:
  // another worker took the file over meanwhile, and the file is marked
  // as needing a write again.
  virtual Result<bool> SetWritten(const ClaimedFile& file, WriteMode mode,
                                  const std::string& calibration_hash,
                                  bool has_namespace, const FileStamp& before,
                                  const FileStamp& after,
                                  const std::string& namespace_digest) = 0;

  // One successful projection, for SetWrittenAll.
  struct Written {
    const ClaimedFile* file = nullptr;
    bool has_namespace = false;
    FileStamp before;
    FileStamp after;
    std::string namespace_digest;
  };
  // SetWritten for each record, in one transaction where the store has
  // them (one sync of the database for a group of files, not one each);
  // one result per record, in order. Called only after the files are
  // durable, so the database never says written before the disk does.
  virtual std::vector<Result<bool>> SetWrittenAll(
      const std::vector<Written>& records, WriteMode mode,
      const std::string& calibration_hash) {
    std::vector<Result<bool>> out;
    for (const Written& w : records)
      out.push_back(SetWritten(*w.file, mode, calibration_hash, w.has_namespace,
                               w.before, w.after, w.namespace_digest));
    return out;
  }

  // Gives the file back with the error (empty: none); it stays pending.
  virtual Status ReleaseClaim(const ClaimedFile& file,
                              const std::string& error) = 0;

  virtual Result<int64_t> CountPending(int64_t library_id) = 0;
};

}  // namespace nomtag

#endif  // NOMTAG_CORE_TAG_STORE_H_
