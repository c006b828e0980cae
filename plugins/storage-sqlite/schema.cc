#include "schema.h"

#include <nomtag/cpp/error.hpp>
#include <string>

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

// Version 3: analysis results per file and inference plugin (what made
// them, the file's size and mtime then, a claim for analysis), their head
// outputs, descriptors and embedding.
void MigrateTo3(soci::session& sql) {
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

}  // namespace

void Migrate(soci::session& sql) {
  sql << "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT "
         "NULL)";
  int version = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT MAX(version) FROM schema_version", soci::into(version, ind);
  if (ind == soci::i_null) version = 0;
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
    MigrateTo3(sql);
    sql << "INSERT INTO schema_version (version) VALUES (3)";
    tx.commit();
  }
  // Later versions: `if (version < 4) { ... }`, each in its transaction.
}

}  // namespace nomtag::sqlite
