#include "schema.h"

#include <nomtag/cpp/error.hpp>
#include <string>
#include <vector>

namespace nomtag::sqlite {

namespace {

const char* const kVersion1[] = {
    "CREATE TABLE libraries ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " root TEXT NOT NULL,"
    " file_write_mode TEXT NOT NULL DEFAULT 'full'"
    "  CHECK (file_write_mode IN ('none', 'minimal', 'full')),"
    " keep_mtime INTEGER NOT NULL DEFAULT 0,"
    " write_strategy TEXT NOT NULL DEFAULT 'auto'"
    "  CHECK (write_strategy IN ('auto', 'copy')),"
    " hardlinks TEXT NOT NULL DEFAULT 'keep'"
    "  CHECK (hardlinks IN ('keep', 'break')))",

    "CREATE TABLE files ("
    " id INTEGER PRIMARY KEY,"
    " library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,"
    " path TEXT NOT NULL,"
    " size BIGINT NOT NULL DEFAULT 0,"
    " mtime_ns BIGINT NOT NULL DEFAULT 0,"
    " format TEXT,"
    " missing INTEGER NOT NULL DEFAULT 0,"
    " has_nomarr_namespace INTEGER NOT NULL DEFAULT 0,"
    " last_written_mode TEXT,"
    " last_written_calibration_hash TEXT,"
    " last_written_at BIGINT,"
    " written_key TEXT,"
    " tags_rev BIGINT NOT NULL DEFAULT 0,"
    " written_tags_rev BIGINT NOT NULL DEFAULT -1,"
    " write_claimed_by TEXT,"
    " write_claimed_at BIGINT,"
    " claim_token BIGINT NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " UNIQUE (library_id, path))",

    "CREATE INDEX files_by_written_key ON files (library_id, missing, "
    "written_key)",
    "CREATE INDEX files_by_tags_dirty ON files (library_id, missing, "
    "(tags_rev <> written_tags_rev))",

    "CREATE TABLE tags ("
    " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
    " tag_key TEXT NOT NULL,"
    " position INTEGER NOT NULL,"
    " value TEXT NOT NULL,"
    " PRIMARY KEY (file_id, tag_key, position))",

    "CREATE TABLE calibration ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " hash TEXT,"
    " definition TEXT)",
};

// Version 2: a library's padding (bytes; 0 = each format's default).
const char* const kVersion2[] = {
    "ALTER TABLE libraries ADD COLUMN padding INTEGER NOT NULL DEFAULT 0"
    "  CHECK (padding BETWEEN 0 AND 16777216)",
};

// Version 3: claims carry their expiry (so every claimer judges a lease
// alike), claims are found by worker (to take over a dead worker's at
// once), and the database carries nomtag's mark. Claims from before keep
// the lease every nomtag then used (10 minutes).
const char* const kVersion3[] = {
    "ALTER TABLE files ADD COLUMN claim_expires_at BIGINT",
    "UPDATE files SET claim_expires_at = write_claimed_at + 600000 "
    "WHERE write_claimed_at IS NOT NULL",
    "CREATE INDEX files_by_claimer ON files (write_claimed_by) "
    "WHERE write_claimed_by IS NOT NULL",
};

int StoredVersion(soci::session& sql) {
  int version = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT MAX(version) FROM schema_version", soci::into(version, ind);
  return ind == soci::i_null ? 0 : version;
}

// Version 4: a file's device and inode (a move or rename within the
// library is recognised by them) and the digest of the namespace nomtag
// last wrote (a file rewritten by someone else since is due again).
const char* const kVersion4[] = {
    "ALTER TABLE files ADD COLUMN dev BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE files ADD COLUMN inode BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE files ADD COLUMN written_digest TEXT",
};

void MigrateTo4(soci::session& sql) {
  soci::transaction tx(sql);
  for (const char* stmt : kVersion4) sql << stmt;
  sql << "INSERT INTO schema_version (version) VALUES (4)";
  tx.commit();
}

}  // namespace

Ownership Inspect(soci::session& sql, int* version, std::string* about) {
  int app_id = 0;
  sql << "PRAGMA application_id", soci::into(app_id);
  std::vector<std::string> tables;
  soci::rowset<std::string> rows =
      (sql.prepare << "SELECT name FROM sqlite_master WHERE type = 'table' "
                      "ORDER BY name");
  for (const auto& t : rows) tables.push_back(t);
  auto has = [&](const char* name) {
    for (const auto& t : tables)
      if (t == name) return true;
    return false;
  };
  if (app_id == kApplicationId) {
    *version = has("schema_version") ? StoredVersion(sql) : 0;
    return Ownership::kNomtag;
  }
  if (app_id == 0 && tables.empty()) return Ownership::kEmpty;
  // Versions 1 and 2 carried no mark: their exact set of tables is ours.
  if (app_id == 0 && has("schema_version") && has("libraries") &&
      has("files") && has("tags") && has("calibration")) {
    int v = StoredVersion(sql);
    if (v >= 1 && v <= 2) {
      *version = v;
      return Ownership::kNomtag;
    }
  }
  std::string list;
  for (size_t i = 0; i < tables.size() && i < 6; ++i)
    list += (i ? ", " : "") + tables[i];
  if (tables.size() > 6) list += ", ...";
  *about = app_id != 0 ? "application id " + std::to_string(app_id) +
                             (list.empty() ? "" : ", tables: " + list)
                       : "its tables: " + list;
  return Ownership::kForeign;
}

void Migrate(soci::session& sql) {
  sql << "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT "
         "NULL)";
  int version = StoredVersion(sql);
  if (version > kSchemaVersion)
    throw sdk::Error(NOMTAG_ERR_UNSUPPORTED,
                     "the database is at schema version " +
                         std::to_string(version) +
                         ", newer than this "
                         "nomtag understands (" +
                         std::to_string(kSchemaVersion) + "); upgrade nomtag");
  if (version < 1) {
    soci::transaction tx(sql);
    for (const char* stmt : kVersion1) sql << stmt;
    sql << "INSERT INTO schema_version (version) VALUES (1)";
    tx.commit();
  }
  if (version < 2) {
    soci::transaction tx(sql);
    for (const char* stmt : kVersion2) sql << stmt;
    sql << "INSERT INTO schema_version (version) VALUES (2)";
    tx.commit();
  }
  if (version < 3) {
    soci::transaction tx(sql);
    for (const char* stmt : kVersion3) sql << stmt;
    sql << "PRAGMA application_id = " + std::to_string(kApplicationId);
    sql << "INSERT INTO schema_version (version) VALUES (3)";
    tx.commit();
  }
  if (version < 4) MigrateTo4(sql);
  // Later versions: `if (version < 5) MigrateTo5(sql);`, each in its
  // transaction.
}

}  // namespace nomtag::sqlite
