// The SQL of the queries that run per batch, in one place, so that the
// plugins run them and a test can check with EXPLAIN that each is answered
// from an index. Parameters: :lib, :dk (the written key the library
// wants), :now (claims expiring before it are expired), :w (the claiming
// worker), :n.
//
// written_key is what the last write projected: "<mode>|<calibration hash
// when the mode writes tiers>"; NULL means nomtag never wrote the file. A
// file needs reconciliation when that differs from what the library wants
// now, or when its tags changed since (tags_rev). The test is split into
// four disjoint parts, each a range of one index, so that finding the next
// batch (or counting) never walks the files that are in sync, however
// many there are.
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_QUERIES_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_QUERIES_H_

#include <string>

namespace nomtag::sqlstore {

struct Dialect;

struct Queries {
  std::string pick_for_claim;      // ids to claim (:lib :dk :now :w :n)
  std::string count_needing;       // what pending_count must equal
  std::string count_in_progress;   // needing, under an unexpired claim
  std::string count_failed;        // needing, with an error
  std::string list_pending;        // id, path, has namespace, mode; by path
  std::string list_failures;       // _, path, error; by path
  std::string list_claim_holders;  // worker, files, latest expiry
};

Queries BuildQueries(const Dialect& dialect);

// The count the API polls where the schema keeps it: one row.
inline constexpr char kReadPendingCount[] =
    "SELECT pending_count FROM libraries WHERE id = :lib";

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_QUERIES_H_
