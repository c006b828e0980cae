// The SQL of the queries that run per batch, in one place, so that the
// plugin runs them and a test can check with EXPLAIN QUERY PLAN that each
// is answered from an index. Parameters: :lib, :dk (the written key the
// library wants), :cutoff (claims older than this are expired), :n.
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_QUERIES_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_QUERIES_H_

namespace nomtag::sqlite {

// written_key is what the last write projected: "<mode>|<calibration hash
// when the mode writes tiers>"; NULL means nomtag never wrote the file.
// A file needs reconciliation when that differs from what the library
// wants now, or when its tags changed since (tags_rev). Each disjunct is
// answerable from an index: ranges of files_by_written_key, and the
// expression index files_by_tags_dirty.
#define NOMTAG_NEEDS_RECONCILIATION                                     \
  "f.missing = 0 AND (f.written_key IS NULL OR f.written_key < :dk OR " \
  "f.written_key > :dk OR (f.tags_rev <> f.written_tags_rev) = 1)"

// The same test split into four disjoint parts, each a range of one index,
// so that finding the next batch (or counting) never walks the files that
// are in sync, however many there are.
#define NOMTAG_NEEDS_PART(cond) \
  "f.library_id = :lib AND f.missing = 0 AND " cond
#define NOMTAG_PART_NULL NOMTAG_NEEDS_PART("f.written_key IS NULL")
#define NOMTAG_PART_BELOW NOMTAG_NEEDS_PART("f.written_key < :dk")
#define NOMTAG_PART_ABOVE NOMTAG_NEEDS_PART("f.written_key > :dk")
#define NOMTAG_PART_DIRTY                           \
  NOMTAG_NEEDS_PART(                                \
      "(f.tags_rev <> f.written_tags_rev) = 1 AND " \
      "f.written_key = :dk")
#define NOMTAG_UNCLAIMED \
  " AND (f.write_claimed_at IS NULL OR f.write_claimed_at < :cutoff)"

inline constexpr char kPickForClaim[] =
    "SELECT id FROM ("
    "SELECT f.id AS id FROM files f WHERE " NOMTAG_PART_NULL NOMTAG_UNCLAIMED
    " UNION ALL SELECT f.id FROM files f WHERE " NOMTAG_PART_BELOW
        NOMTAG_UNCLAIMED
    " UNION ALL SELECT f.id FROM files f WHERE " NOMTAG_PART_ABOVE
        NOMTAG_UNCLAIMED
    " UNION ALL SELECT f.id FROM files f WHERE " NOMTAG_PART_DIRTY
        NOMTAG_UNCLAIMED ") LIMIT :n";

inline constexpr char kCountNeeding[] =
    "SELECT (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_NULL
    ") + (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_BELOW
    ") + (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_ABOVE
    ") + (SELECT COUNT(*) FROM files f WHERE " NOMTAG_PART_DIRTY ")";

inline constexpr char kNeedsReconciliation[] = NOMTAG_NEEDS_RECONCILIATION;

}  // namespace nomtag::sqlite

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_QUERIES_H_
