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

namespace nomtag::sqlite {

// The version this build writes.
constexpr int kSchemaVersion = 3;

// Applies the migrations the database lacks. Throws sdk::Error when the
// database is newer than this build.
void Migrate(soci::session& sql);

}  // namespace nomtag::sqlite

#endif  // NOMTAG_PLUGINS_STORAGE_SQLITE_SCHEMA_H_
