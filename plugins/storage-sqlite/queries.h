// The SQL of the queries that run per batch, in one place, so that the
// plugin runs them and a test can check with EXPLAIN QUERY PLAN that each
// is answered from an index. Parameters: :lib, :dk (the written key the
// library wants), :now (claims expiring before it are expired), :w (the
// claiming worker), :n.
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_QUERIES_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_QUERIES_H_

namespace nomtag::sqlite {

// written_key is what the last write projected: "<mode>|<calibration hash
// when the mode writes tiers>"; NULL means nomtag never wrote the file. A
// file needs reconciliation when that differs from what the library wants
// now, or when its tags changed since (tags_rev).
// The same test split into four disjoint parts, each a range of one index,
// so that finding the next batch (or counting) never walks the files that
// are in sync, however many there are.
#define NOMTAG_NEEDS_PART(cond) \
  "f.library_id = :lib AND f.missing = 0 AND " cond
// (The pending count's triggers in schema.cc repeat this test: change
// both.) A file with a namespace nomtag did not write and no tags in the
// database yet (never analysed or imported) is held in full and minimal
// mode: writing would only strip what another tool put there, and a file
// renamed outside nomtag's sight is exactly such a file. `none` clears it.
#define NOMTAG_PART_NULL                                       \
  NOMTAG_NEEDS_PART(                                           \
      "f.written_key IS NULL AND (f.has_nomarr_namespace = 0 " \
      "OR f.tags_rev > 0 OR :dk = 'none|')")
#define NOMTAG_PART_BELOW NOMTAG_NEEDS_PART("f.written_key < :dk")
#define NOMTAG_PART_ABOVE NOMTAG_NEEDS_PART("f.written_key > :dk")
#define NOMTAG_PART_DIRTY                           \
  NOMTAG_NEEDS_PART(                                \
      "(f.tags_rev <> f.written_tags_rev) = 1 AND " \
      "f.written_key = :dk")
// Free to claim: no unexpired claim, and never one the worker holds
// itself (a run does not re-claim the files it keeps for their errors).
#define NOMTAG_UNCLAIMED                                           \
  " AND (f.claim_expires_at IS NULL OR f.claim_expires_at < :now)" \
  " AND (f.write_claimed_by IS NULL OR f.write_claimed_by <> :w)"

inline constexpr char kPickForClaim[] =
    "SELECT id FROM ("
    "SELECT f.id AS id FROM files f WHERE " NOMTAG_PART_NULL NOMTAG_UNCLAIMED
    " UNION ALL SELECT f.id FROM files f WHERE " NOMTAG_PART_BELOW
        NOMTAG_UNCLAIMED
    " UNION ALL SELECT f.id FROM files f WHERE " NOMTAG_PART_ABOVE
        NOMTAG_UNCLAIMED
    " UNION ALL SELECT f.id FROM files f WHERE " NOMTAG_PART_DIRTY
        NOMTAG_UNCLAIMED ") LIMIT :n";

// Counts the files that need reconciliation and also meet `extra` (an SQL
// condition starting with " AND ", or ""), as four index ranges.
#define NOMTAG_COUNT_NEEDING(extra)                                    \
  "SELECT (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_NULL extra \
  ") + (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_BELOW extra   \
  ") + (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_ABOVE extra   \
  ") + (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_DIRTY extra ")"

// The full count; what libraries.pending_count (kept by triggers, see
// schema.cc) must always equal. Tests check the two against each other.
inline constexpr char kCountNeeding[] = NOMTAG_COUNT_NEEDING("");
// The count the API polls: one row.
inline constexpr char kReadPendingCount[] =
    "SELECT pending_count FROM libraries WHERE id = :lib";
inline constexpr char kCountInProgress[] =
    NOMTAG_COUNT_NEEDING(" AND f.claim_expires_at >= :now");
inline constexpr char kCountFailed[] =
    NOMTAG_COUNT_NEEDING(" AND f.last_error IS NOT NULL");

// Selects `columns` of the files that need reconciliation and also meet
// `extra`, ordered by path.
#define NOMTAG_SELECT_NEEDING(columns, extra)                                 \
  "SELECT " columns " FROM files f WHERE " NOMTAG_PART_NULL extra             \
  " UNION ALL SELECT " columns " FROM files f WHERE " NOMTAG_PART_BELOW extra \
  " UNION ALL SELECT " columns " FROM files f WHERE " NOMTAG_PART_ABOVE extra \
  " UNION ALL SELECT " columns " FROM files f WHERE " NOMTAG_PART_DIRTY extra \
  " ORDER BY 2"

inline constexpr char kListPending[] = NOMTAG_SELECT_NEEDING(
    "f.id, f.path, f.has_nomarr_namespace, f.last_written_mode", "");
inline constexpr char kListFailures[] = NOMTAG_SELECT_NEEDING(
    "f.path AS p, f.path, f.last_error", " AND f.last_error IS NOT NULL");

// Per worker holding claims on files that need reconciliation: the worker,
// how many, and the latest expiry (from the claimer index).
inline constexpr char kListClaimHolders[] =
    "SELECT w, COUNT(*), MAX(e) FROM (" NOMTAG_SELECT_NEEDING(
        "f.write_claimed_by AS w, f.path, "
        "f.claim_expires_at AS e",
        " AND f.write_claimed_by IS NOT NULL") ") GROUP BY w ORDER BY w";

}  // namespace nomtag::sqlite

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_QUERIES_H_
