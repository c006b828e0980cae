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

// Taking over a dead analyser's claims, in every analysis claim
// (analysis_store.cc): the other workers whose unexpired claims on the
// library's files for the plugin may have died (:lib :pid :me :cutoff),
// then, per dead one, freeing its claims (:w :pid). Both read the claimed
// rows from analyses_by_claimer (schema 7), never every analysis; the
// first joins each claimed row's file by id. `+f.library_id` keeps the
// library test out of index choice: with it SQLite's planner walked every
// file of the library (files_by_tags_dirty) to look up its analysis, in
// every claim.
inline constexpr char kAnalysisClaimHolders[] =
    "SELECT DISTINCT a.claimed_by FROM analyses a JOIN files f ON f.id = "
    "a.file_id WHERE +f.library_id = :lib AND a.plugin_id = :pid AND "
    "a.claimed_by IS NOT NULL AND a.claimed_by <> :me AND a.claimed_at >= "
    ":cutoff";
inline constexpr char kFreeAnalysisClaims[] =
    "UPDATE analyses SET claimed_by = NULL, claimed_at = NULL, claim_token = "
    "claim_token + 1 WHERE claimed_by = :w AND plugin_id = :pid";

// The count the API polls where the schema keeps it: one row.
inline constexpr char kReadPendingCount[] =
    "SELECT pending_count FROM libraries WHERE id = :lib";

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_QUERIES_H_
