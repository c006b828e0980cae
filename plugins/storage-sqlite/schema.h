// The database schema and its forward migrations.
//
// schema_version holds the version a database is at; Migrate applies every
// newer step in one transaction each, so a database written by an older
// nomtag opens in a newer one. SQL stays portable to PostgreSQL where a
// portable construct exists (the id columns are the exception: SQLite's
// INTEGER PRIMARY KEY here, an identity column there).
#ifndef NOMTAG_PLUGINS_STORAGE_SQLITE_SCHEMA_H_
#define NOMTAG_PLUGINS_STORAGE_SQLITE_SCHEMA_H_

#include <soci/soci.h>

#include <string>

namespace nomtag::sqlite {

// The version this build writes.
constexpr int kSchemaVersion = 7;

// nomtag's mark in the SQLite header (PRAGMA application_id, "nomt"),
// set from schema version 3 on: what makes a database known to be ours.
constexpr int kApplicationId = 0x6E6F6D74;

enum class Ownership {
  kEmpty,   // no table at all: nobody's yet
  kNomtag,  // the mark, or (before version 3) nomtag's own tables
  kForeign  // anything else: never written to
};

// Reads (never writes) whose database sql is. *version gets nomtag's
// schema version (kNomtag only); *about describes a foreign one for the
// message ("its tables: a, b").
Ownership Inspect(soci::session& sql, int* version, std::string* about);

// Applies the migrations the database lacks. Throws sdk::Error when the
// database is newer than this build.
void Migrate(soci::session& sql);

}  // namespace nomtag::sqlite

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_SCHEMA_H_
