#include "schema.h"

#include <nomtag/cpp/error.hpp>
#include <string>
#include <vector>

#include "schema_steps.h"

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

// Version 5: analysis results per file and inference plugin (what made
// them, the file's size and mtime then, a claim for analysis), their head
// outputs, descriptors and embedding.
void MigrateTo5(soci::session& sql) {
  sql << "CREATE TABLE analyses ("
         " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
         " plugin_id TEXT NOT NULL,"
         " plugin_version TEXT,"
         " settings_digest TEXT,"
         " size BIGINT,"
         " mtime_ns BIGINT,"
         " analysed_at BIGINT,"
         " error TEXT,"
         " audio_seconds REAL,"
         " claimed_by TEXT,"
         " claimed_at BIGINT,"
         " claim_token BIGINT NOT NULL DEFAULT 0,"
         " PRIMARY KEY (file_id, plugin_id))";
  sql << "CREATE TABLE analysis_heads ("
         " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
         " plugin_id TEXT NOT NULL,"
         " model_id TEXT NOT NULL,"
         " label TEXT NOT NULL,"
         " score REAL NOT NULL,"
         " spread REAL,"
         " opposite TEXT,"
         " PRIMARY KEY (file_id, plugin_id, model_id, label))";
  sql << "CREATE TABLE analysis_descriptors ("
         " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
         " plugin_id TEXT NOT NULL,"
         " name TEXT NOT NULL,"
         " value REAL NOT NULL,"
         " PRIMARY KEY (file_id, plugin_id, name))";
  sql << "CREATE TABLE analysis_embeddings ("
         " file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,"
         " plugin_id TEXT NOT NULL,"
         " model_id TEXT NOT NULL,"
         " vector BLOB NOT NULL,"
         " PRIMARY KEY (file_id, plugin_id))";
}

// Pending counts: each library keeps how many of its files need
// reconciliation (pending_count), so that the count the API polls is one
// row, not a walk of every pending file (100 ms at 100,000 files). The
// count is kept by triggers, in the same transaction as every change that
// moves it, whoever makes the change: a file added, deleted, marked
// missing, written, or given new tags; a library's mode changed; a
// calibration set or cleared (these two recount, as they move many files
// at once).
//
// desired_key is what written_key must be for a file to be in sync; it
// must agree with WrittenKey/DesiredKey in storage_plugin.cc ("none|", or
// "<mode>|<calibration hash or ''>"). A file needs reconciliation when it
// is not missing and its written_key differs from it (NULL: never
// written, unless it holds a namespace nomtag did not write and has no
// tags yet in a mode other than none) or its tags changed since the write:
// kCountNeeding's test (queries.h), which must change with this one.
#define NOMTAG_DESIRED_KEY(mode)                       \
  "(CASE " mode " WHEN 'none' THEN 'none|' ELSE " mode \
  " || '|' || "                                        \
  "COALESCE((SELECT hash FROM calibration WHERE id = 1), '') END)"
// Null-safe throughout (IS, IS NOT): the result is 0 or 1, never NULL.
#define NOMTAG_NEEDS(row, dk)                                              \
  "(" row ".missing = 0 AND ((" row ".written_key IS NULL AND (" row       \
  ".has_nomarr_namespace = 0 OR " row ".tags_rev > 0 OR " dk               \
  " = 'none|')) OR (" row ".written_key IS NOT NULL AND " row              \
  ".written_key IS NOT " dk ") OR (" row ".written_key IS " dk " AND " row \
  ".tags_rev <> " row ".written_tags_rev)))"
// Sets desired_key and recounts pending_count for the libraries `where`
// selects (SET sees a row's old values: the key is computed twice).
#define NOMTAG_RECOUNT(where) \
  "UPDATE libraries SET desired_key = " NOMTAG_DESIRED_KEY(              \
      "file_write_mode") ", pending_count = (SELECT COUNT(*) FROM files " \
                         "f WHERE f.library_id = libraries.id AND " NOMTAG_NEEDS( \
                             "f", NOMTAG_DESIRED_KEY(                     \
                                      "libraries.file_write_mode")) ")" where

const char* const kPendingCounts[] = {
    "ALTER TABLE libraries ADD COLUMN desired_key TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE libraries ADD COLUMN pending_count BIGINT NOT NULL "
    "DEFAULT 0",
    NOMTAG_RECOUNT(""),
    "CREATE TRIGGER libraries_key_on_insert AFTER INSERT ON libraries BEGIN "
    NOMTAG_RECOUNT(" WHERE id = NEW.id") "; END",
    "CREATE TRIGGER libraries_recount_on_mode AFTER UPDATE OF "
    "file_write_mode ON libraries WHEN OLD.file_write_mode IS NOT "
    "NEW.file_write_mode BEGIN " NOMTAG_RECOUNT(" WHERE id = NEW.id") "; END",
    "CREATE TRIGGER calibration_recount_on_insert AFTER INSERT ON "
    "calibration BEGIN " NOMTAG_RECOUNT("") "; END",
    "CREATE TRIGGER calibration_recount_on_update AFTER UPDATE ON "
    "calibration BEGIN " NOMTAG_RECOUNT("") "; END",
    "CREATE TRIGGER calibration_recount_on_delete AFTER DELETE ON "
    "calibration BEGIN " NOMTAG_RECOUNT("") "; END",
    "CREATE TRIGGER files_pending_on_insert AFTER INSERT ON files BEGIN "
    "UPDATE libraries SET pending_count = pending_count + " NOMTAG_NEEDS(
        "NEW", "desired_key") " WHERE id = NEW.library_id; END",
    "CREATE TRIGGER files_pending_on_delete AFTER DELETE ON files BEGIN "
    "UPDATE libraries SET pending_count = pending_count - " NOMTAG_NEEDS(
        "OLD", "desired_key") " WHERE id = OLD.library_id; END",
    "CREATE TRIGGER files_pending_on_update AFTER UPDATE OF library_id, "
    "missing, written_key, tags_rev, written_tags_rev, has_nomarr_namespace "
    "ON files BEGIN "
    "UPDATE libraries SET pending_count = pending_count"
    " - (OLD.library_id = id AND " NOMTAG_NEEDS("OLD", "desired_key") ")"
    " + (NEW.library_id = id AND " NOMTAG_NEEDS("NEW", "desired_key") ")"
    " WHERE id IN (OLD.library_id, NEW.library_id); END",
};

#undef NOMTAG_RECOUNT
#undef NOMTAG_NEEDS
#undef NOMTAG_DESIRED_KEY

// Version 6.
constexpr int kPendingCountsVersion = 6;

void MigrateToPendingCounts(soci::session& sql) {
  soci::transaction tx(sql);
  for (const char* stmt : kPendingCounts) sql << stmt;
  sql << "INSERT INTO schema_version (version) VALUES (" +
             std::to_string(kPendingCountsVersion) + ")";
  tx.commit();
}

// Version 7 (schema_steps.h): analysis claims found by worker.
void MigrateTo7(soci::session& sql) {
  soci::transaction tx(sql);
  for (const char* stmt : sqlstore::kVersion7) sql << stmt;
  sql << "INSERT INTO schema_version (version) VALUES (7)";
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
  if (version < 5) {
    soci::transaction tx(sql);
    MigrateTo5(sql);
    sql << "INSERT INTO schema_version (version) VALUES (5)";
    tx.commit();
  }
  if (version < kPendingCountsVersion) MigrateToPendingCounts(sql);
  if (version < 7) MigrateTo7(sql);
  // Later versions: `if (version < 8) MigrateTo8(sql);`, each in its
  // transaction.
}

}  // namespace nomtag::sqlite
