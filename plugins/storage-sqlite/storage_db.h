// The plugin's per-connection state, shared by the files that implement
// the storage table (storage_plugin.cc, analysis_store.cc).
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_STORAGE_DB_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_STORAGE_DB_H_

#include <soci/soci.h>

#include <cstdint>
#include <memory>
#include <string>

#include "worker_lock.h"

struct nomtag_storage_db {
  soci::session sql;
  std::string location;
  bool read_only = false;
  int64_t wait_ms = 30000;
  // Set by worker_start: this handle's worker, alive while it is held.
  std::unique_ptr<nomtag::sqlite::WorkerLock> worker;
};

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_STORAGE_DB_H_
