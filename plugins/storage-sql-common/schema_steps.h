// The schema steps from version 7 on, which storage-sqlite and
// storage-postgresql share word for word (a PostgreSQL database starts at
// version 6, SQLite's tables in one step; from there the numbering and
// the SQL are common). Each plugin applies a step in its own transaction
// shape (plugins/storage-*/schema.cc).
#ifndef NOMTAG_PLUGINS_STORAGE_SQL_COMMON_SCHEMA_STEPS_H_
#define NOMTAG_PLUGINS_STORAGE_SQL_COMMON_SCHEMA_STEPS_H_

namespace nomtag::sqlstore {

// Version 7: analysis claims are found by worker, as write claims are
// since version 3 (files_by_claimer): taking over a dead analyser's claims
// (analysis_store.cc, `WHERE claimed_by = :w`) reads that worker's rows,
// not every analysis. Partial: only the few claimed rows are in it.
inline constexpr const char* kVersion7[] = {
    "CREATE INDEX analyses_by_claimer ON analyses (claimed_by) "
    "WHERE claimed_by IS NOT NULL",
};

}  // namespace nomtag::sqlstore

#endif  // NOMTAG_PLUGINS_STORAGE_SQL_COMMON_SCHEMA_STEPS_H_
