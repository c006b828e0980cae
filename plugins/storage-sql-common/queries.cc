#include "queries.h"

#include "backend.h"

namespace nomtag::sqlstore {
namespace {

const std::string kPart = "f.library_id = :lib AND f.missing = 0 AND ";

// (The SQLite pending count's triggers repeat this test: change both.) A
// file with a namespace nomtag did not write and no tags in the database
// yet (never analysed or imported) is held in full and minimal mode:
// writing would only strip what another tool put there, and a file
// renamed outside nomtag's sight is exactly such a file. `none` clears it.
std::string PartNull() {
  return kPart +
         "f.written_key IS NULL AND (f.has_nomarr_namespace = 0 OR "
         "f.tags_rev > 0 OR :dk = 'none|')";
}
std::string PartBelow() { return kPart + "f.written_key < :dk"; }
std::string PartAbove() { return kPart + "f.written_key > :dk"; }
std::string PartDirty(const Dialect& d) {
  return kPart + d.tags_dirty + " AND f.written_key = :dk";
}

// Free to claim: no unexpired claim, and never one the worker holds
// itself (a run does not re-claim the files it keeps for their errors).
const char kUnclaimed[] =
    " AND (f.claim_expires_at IS NULL OR f.claim_expires_at < :now)"
    " AND (f.write_claimed_by IS NULL OR f.write_claimed_by <> :w)";

// Counts the files that need reconciliation and also meet `extra` (an SQL
// condition starting with " AND ", or ""), as four index ranges.
std::string CountNeeding(const Dialect& d, const std::string& extra) {
  return "SELECT (SELECT COUNT(*) FROM files f WHERE " + PartNull() + extra +
         ") + (SELECT COUNT(*) FROM files f WHERE " + PartBelow() + extra +
         ") + (SELECT COUNT(*) FROM files f WHERE " + PartAbove() + extra +
         ") + (SELECT COUNT(*) FROM files f WHERE " + PartDirty(d) + extra +
         ")";
}

// Selects `columns` of the files that need reconciliation and also meet
// `extra`, ordered by their second column.
std::string SelectNeeding(const Dialect& d, const std::string& columns,
                          const std::string& extra) {
  std::string out;
  for (const std::string& part :
       {PartNull(), PartBelow(), PartAbove(), PartDirty(d)})
    out += (out.empty() ? "SELECT " : " UNION ALL SELECT ") + columns +
           " FROM files f WHERE " + part + extra;
  return out + " ORDER BY 2";
}

std::string PickForClaim(const Dialect& d) {
  const std::string parts[] = {PartNull(), PartBelow(), PartAbove(),
                               PartDirty(d)};
  if (!d.row_locks) {
    // The caller holds the database's write lock: a plain pick.
    std::string out;
    for (const auto& part : parts)
      out += (out.empty() ? "" : " UNION ALL ") +
             std::string("SELECT f.id AS id FROM files f WHERE ") + part +
             kUnclaimed;
    return "SELECT id FROM (" + out + ") AS picked LIMIT :n";
  }
  // Each range locks what it picks and skips rows other claimers hold
  // (locking clauses are not allowed in a UNION, so each range is a
  // common table expression of its own).
  std::string with, all;
  for (int i = 0; i < 4; ++i) {
    std::string name = "p" + std::to_string(i);
    with += (with.empty() ? "WITH " : ", ") + name +
            " AS (SELECT f.id FROM files f WHERE " + parts[i] + kUnclaimed +
            " LIMIT :n FOR UPDATE SKIP LOCKED)";
    all += (all.empty() ? "" : " UNION ALL ") + std::string("SELECT id FROM ") +
           name;
  }
  return with + " " + all + " LIMIT :n";
}

}  // namespace

Queries BuildQueries(const Dialect& d) {
  Queries q;
  q.pick_for_claim = PickForClaim(d);
  q.count_needing = CountNeeding(d, "");
  q.count_in_progress = CountNeeding(d, " AND f.claim_expires_at >= :now");
  q.count_failed = CountNeeding(d, " AND f.last_error IS NOT NULL");
  q.list_pending = SelectNeeding(
      d, "f.id, f.path, f.has_nomarr_namespace, f.last_written_mode", "");
  q.list_failures = SelectNeeding(d, "f.path AS p, f.path, f.last_error",
                                  " AND f.last_error IS NOT NULL");
  // Per worker holding claims on files that need reconciliation: the
  // worker, how many, and the latest expiry (from the claimer index).
  q.list_claim_holders =
      "SELECT w, COUNT(*), MAX(e) FROM (" +
      SelectNeeding(d,
                    "f.write_claimed_by AS w, f.path, f.claim_expires_at AS e",
                    " AND f.write_claimed_by IS NOT NULL") +
      ") AS held GROUP BY w ORDER BY w";
  return q;
}

}  // namespace nomtag::sqlstore
