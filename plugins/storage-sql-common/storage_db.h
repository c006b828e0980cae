// The per-connection state of a storage plugin built on this folder's
// code, shared by the files that implement the storage table.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_STORAGE_DB_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_STORAGE_DB_H_

#include <soci/soci.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "backend.h"

struct nomtag_storage_db {
  soci::session sql;
  std::string location;  // for messages, and to open the same one again
  bool read_only = false;
  int64_t wait_ms = 30000;
  // Between the host's begin and its commit or rollback: an entry that
  // must change several rows atomically runs inside it rather than
  // opening a transaction of its own (which the engine would refuse).
  bool in_transaction = false;
  const nomtag::sqlstore::Backend* backend = nullptr;
  // Set by worker_start: this handle's worker id, alive while `worker`
  // (the backend's lock, whatever it is) is held.
  std::string worker_id;
  std::shared_ptr<void> worker;
  // Set by a successful rows_import_begin, until its transaction ends:
  // commit then finishes the import (row_copy.h FinishImport) before
  // COMMIT.
  bool importing = false;
  // Statements run once per file of a batch (a reconcile's reads and
  // records), prepared on first use and kept for the connection:
  // preparing is most of what such a statement costs. Declared after sql,
  // so they are finalised before it closes. See prepared_statements.h.
  std::unordered_map<std::string, std::shared_ptr<void>> prepared;
};

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_STORAGE_DB_H_
