// What differs between the SQL engines the storage plugins run on, kept
// small and named: everything else (the tables' columns, the queries, the
// fencing of claims) is shared by storage-sqlite and storage-postgresql
// through this folder's code.
//
// A Backend is made once per plugin and is immutable; every entry may be
// called from any thread, each with its own db handle.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_BACKEND_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_BACKEND_H_

#include <soci/soci.h>

#include <string>

#include "queries.h"

struct nomtag_storage_db;

namespace nomtag::sqlstore {

struct Dialect {
  // What opens a transaction that will write: SQLite takes the database's
  // write lock up front (BEGIN IMMEDIATE), so that two claimers never pick
  // the same rows; PostgreSQL locks the rows it picks instead.
  const char* begin_write;
  // The test "the tags changed since the last write", spelt as the
  // expression index over it is (SQLite: an integer expression compared
  // to 1; PostgreSQL: a boolean).
  const char* tags_dirty;
  // Whether claim picks lock their rows (FOR UPDATE SKIP LOCKED): the
  // claimers of a server then skip each other's rows instead of waiting.
  bool row_locks;
  // Whether libraries.pending_count is kept by triggers (SQLite). Without
  // it (PostgreSQL) the count is read from the four mismatch index
  // ranges: a counter row would serialise every worker's writes on it.
  bool pending_count_kept;
  // What opens a read-only transaction that sees one snapshot throughout
  // (a row export): SQLite's deferred BEGIN reads one snapshot already;
  // PostgreSQL needs REPEATABLE READ for it.
  const char* begin_snapshot;
  // A binary column as hex text, around its name (SQLite: hex(x);
  // PostgreSQL: encode(x, 'hex')).
  const char* blob_hex_open;
  const char* blob_hex_close;
  // Whether an import (`nomtag db copy`) ends by gathering the planner's
  // statistics of the tables it filled (ANALYZE), in its transaction.
  // PostgreSQL: autovacuum would do it only a while later, and a planner
  // that believes the tables empty picks scans for the first runs on the
  // copy. SQLite: no, because nothing keeps its statistics current
  // afterwards (it has no autovacuum, and nomtag runs no ANALYZE), so
  // they would stay as they were at the copy while the library changes;
  // every other nomtag SQLite database plans without statistics, which is
  // what the per-batch queries' EXPLAIN tests check.
  bool analyze_after_import;
};

class Backend {
 public:
  explicit Backend(const Dialect& dialect)
      : dialect_(dialect), queries_(BuildQueries(dialect)) {}
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  const Dialect& dialect() const { return dialect_; }
  const Queries& queries() const { return queries_; }

  // Makes db's connection a worker: takes the lock that proves it alive for
  // as long as db stays open, and returns the worker's id. Throws
  // sdk::Error when it cannot.
  virtual std::string StartWorker(nomtag_storage_db* db) const = 0;
  // Whether the worker id (as claim rows hold it) holds its lock now. Ids
  // no StartWorker made are dead.
  virtual bool IsWorkerAlive(nomtag_storage_db* db,
                             const std::string& id) const = 0;
  // Throws sdk::Error for an engine error worth explaining (another
  // process keeps the database locked, the connection is lost); returns
  // for any other, which is then reported as it is.
  virtual void Explain(nomtag_storage_db* db,
                       const soci::soci_error& e) const = 0;
  // Stores an embedding's bytes (little-endian float32) for the file and
  // plugin: a BLOB in SQLite, a BYTEA in PostgreSQL.
  virtual void StoreEmbedding(nomtag_storage_db* db, long long file_id,
                              const std::string& plugin_id,
                              const std::string& model_id,
                              const std::string& bytes) const = 0;
  // Called after rows were inserted with the ids they had elsewhere (an
  // import): an engine whose ids come from a sequence moves it past them.
  virtual void AfterIdsGiven(nomtag_storage_db* /*db*/) const {}

 private:
  Dialect dialect_;
  Queries queries_;
};

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_BACKEND_H_
