// Worker liveness for an SQLite database: each worker holds an OFD lock on
// a file of its own in a folder beside the database (`<db>-workers/`) for
// as long as it lives. Liveness is that lock, never a guess from a pid: a
// worker killed by any means (SIGKILL, OOM, container stop, power cut)
// drops it, a stopped or slow one keeps it, and the answer is the same
// from every process, container and host that shares the filesystem.
//
// Thread contract: a WorkerLock is owned by one db handle; IsWorkerAlive
// may be called from any thread.
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_WORKER_LOCK_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_WORKER_LOCK_H_

#include <string>

namespace nomtag::sqlite {

class WorkerLock {
 public:
  // Creates this process's worker file beside database and locks it.
  // Throws sdk::Error (NOMTAG_ERR_IO) with the reason when it cannot.
  static WorkerLock Start(const std::string& database);

  WorkerLock() = default;
  WorkerLock(WorkerLock&& other) noexcept;
  WorkerLock& operator=(WorkerLock&& other) noexcept;
  WorkerLock(const WorkerLock&) = delete;
  WorkerLock& operator=(const WorkerLock&) = delete;
  ~WorkerLock();  // unlocks and removes the file

  // "<host>:<pid>:<random hex>": unique, readable in messages, and the
  // name of the worker's file.
  const std::string& id() const { return id_; }

 private:
  int fd_ = -1;
  std::string id_, path_;
};

// Whether the worker id (as claim rows hold it) holds its lock. A worker
// whose file is missing or unlocked is dead; its file is then removed.
bool IsWorkerAlive(const std::string& database, const std::string& id);

}  // namespace nomtag::sqlite

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_WORKER_LOCK_H_
