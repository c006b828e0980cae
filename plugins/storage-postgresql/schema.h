// The PostgreSQL schema: the SQLite plugin's tables and indexes at its
// version 6, then the steps both share (storage-sql-common's
// schema_steps.h), with the engine's own types (identity ids, DOUBLE PRECISION,
// BYTEA), and without the trigger-kept pending counts (see backend.h).
// A database is nomtag's when its schema_version table carries the
// comment 'nomtag' (what SQLite's application_id is there).
//
// Migrate runs under a transaction-scoped advisory lock, so that several
// machines opening a new database at once make it once.
#ifndef NOMTAG_PLUGINS_STORAGE_POSTGRESQL_SCHEMA_H_
#define NOMTAG_PLUGINS_STORAGE_POSTGRESQL_SCHEMA_H_

#include <soci/soci.h>

#include <string>

namespace nomtag::postgresql {

// The version this build writes; the numbering is the SQLite plugin's
// (a PostgreSQL database starts at 6, so steps 7 on are shared).
constexpr int kSchemaVersion = 7;

// The advisory lock space of nomtag ("nomt"): worker liveness locks and
// the migration lock live in it.
constexpr int kLockSpace = 0x6E6F6D74;

enum class Ownership { kEmpty, kNomtag, kForeign };

// Reads (never writes) whose the connected schema is. *version gets
// nomtag's schema version (kNomtag only); *about lists a foreign one's
// tables for the message.
Ownership Inspect(soci::session& sql, int* version, std::string* about);

// Creates or upgrades the schema. Throws sdk::Error when the database is
// newer than this build, or not nomtag's.
void Migrate(soci::session& sql);

}  // namespace nomtag::postgresql

#endif  // NOMTAG_PLUGINS_STORAGE_POSTGRESQL_SCHEMA_H_
