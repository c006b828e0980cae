// The PostgreSQL storage plugin: the same tables and behaviour as
// storage-sqlite (the table is shared: plugins/storage-sql-common), on a
// server several machines reach. Claims lock the rows they pick (FOR
// UPDATE SKIP LOCKED) and are fenced by their token as in SQLite; a
// worker's liveness is a session advisory lock its connection holds, so a
// worker whose process or connection died is seen dead by every machine.
#include <nomtag/storage.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <string>

#include "backend.h"
#include "dialects.h"
#include "schema.h"
#include "storage_db.h"
#include "storage_table.h"

namespace nomtag::postgresql {
namespace {

using sdk::Error;
using sdk::guard;

std::string configured_database;  // from plugins.yaml `database:`

nomtag_status Init(const nomtag_host*, const char* settings, size_t len,
                   nomtag_error* err) {
  return guard(err, [&] {
    configured_database = sqlstore::DatabaseSetting(settings, len);
  });
}

// The URL without its password, for messages.
std::string Shown(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t colon = url.find(':', scheme + 3);
  if (at == std::string::npos || colon == std::string::npos || colon > at)
    return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

PGconn* Connection(soci::session& sql) {
  return static_cast<soci::postgresql_session_backend*>(sql.get_backend())
      ->conn_;
}

// The worker number in an id "<host>:<pid>:pg<n>"; 0 when it has none.
long long WorkerNumber(const std::string& id) {
  size_t at = id.rfind(":pg");
  if (at == std::string::npos) return 0;
  long long n = 0;
  for (size_t i = at + 3; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9' || n > (1LL << 40)) return 0;
    n = n * 10 + (id[i] - '0');
  }
  return n;
}

// How PostgreSQL differs (see dialects.h), and a worker's liveness: a
// session advisory lock its connection holds.
class PostgresBackend : public sqlstore::Backend {
 public:
  PostgresBackend() : Backend(sqlstore::kPostgresDialect) {}

  std::string StartWorker(nomtag_storage_db* db) const override {
    long long n = 0;
    db->sql << "SELECT nextval('nomtag_workers')", soci::into(n);
    // Held by this connection until it closes or breaks: no process of
    // any machine can hold it after that.
    db->sql << "SELECT pg_advisory_lock(" + std::to_string(kLockSpace) +
                   ", :n)",
        soci::use(n, "n");
    char host[128] = {0};
    ::gethostname(host, sizeof host - 1);
    return std::string(host) + ":" + std::to_string(::getpid()) + ":pg" +
           std::to_string(n);
  }

  bool IsWorkerAlive(nomtag_storage_db* db,
                     const std::string& id) const override {
    if (!db->worker_id.empty() && id == db->worker_id) return true;
    long long n = WorkerNumber(id);
    if (n <= 0) return false;  // no worker_start made it
    long long held = 0;
    long long space = kLockSpace;
    db->sql << "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' "
               "AND database = (SELECT oid FROM pg_database WHERE datname = "
               "current_database()) AND classid = CAST(:s AS oid) AND objid "
               "= CAST(:n AS oid) AND objsubid = 2 AND granted",
        soci::use(space, "s"), soci::use(n, "n"), soci::into(held);
    return held > 0;
  }

  void Explain(nomtag_storage_db* db,
               const soci::soci_error& e) const override {
    if (db->sql.get_backend() != nullptr &&
        PQstatus(Connection(db->sql)) == CONNECTION_BAD)
      throw Error(NOMTAG_ERR_IO,
                  "lost the connection to the PostgreSQL database " +
                      Shown(db->location) + " (" + Trimmed(e.what()) +
                      "); nothing more was recorded: what was claimed "
                      "lapses, and a run once the server is back goes on");
    const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e);
    if (pg == nullptr) return;
    const std::string state = pg->sqlstate();
    if (state == "55P03") {
      char waited[32];
      std::snprintf(waited, sizeof waited, "%g", db->wait_ms / 1000.0);
      throw Error(NOMTAG_ERR_IO,
                  "the PostgreSQL database " + Shown(db->location) +
                      " keeps a row locked for another worker; gave up after " +
                      waited + " s (--wait SECONDS sets how long to wait)");
    }
    if (state == "22021")  // a byte sequence invalid in the encoding
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "the PostgreSQL database " + Shown(db->location) +
                      " keeps text in an encoding (UTF8) that cannot hold "
                      "this name, which is not UTF-8; keep such a library "
                      "in a database made with ENCODING 'SQL_ASCII' "
                      "TEMPLATE template0, which stores names byte for byte "
                      "as SQLite does (" +
                      Trimmed(e.what()).substr(0, 200) + ")");
    if (state == "40P01" || state == "40001")
      throw Error(NOMTAG_ERR_IO,
                  "the PostgreSQL database " + Shown(db->location) +
                      " undid this step to let another worker's go first (" +
                      Trimmed(e.what()) + "); run again");
  }

  void StoreEmbedding(nomtag_storage_db* db, long long file_id,
                      const std::string& plugin_id, const std::string& model_id,
                      const std::string& bytes) const override {
    static const char* hex = "0123456789abcdef";
    std::string text;
    text.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
      text += hex[c >> 4];
      text += hex[c & 15];
    }
    std::string plugin = plugin_id, model = model_id;
    db->sql << "INSERT INTO analysis_embeddings (file_id, plugin_id, "
               "model_id, vector) VALUES (:id, :pid, :m, decode(:b, 'hex'))",
        soci::use(file_id, "id"), soci::use(plugin, "pid"),
        soci::use(model, "m"), soci::use(text, "b");
  }

  void AfterIdsGiven(nomtag_storage_db* db) const override {
    for (const char* table : {"libraries", "files"})
      db->sql << std::string("SELECT setval(pg_get_serial_sequence('") + table +
                     "', 'id'), COALESCE((SELECT MAX(id) FROM " + table +
                     "), 0) + 1, false)";
  }

 private:
  static std::string Trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
};

const PostgresBackend& TheBackend() {
  // A plain static, not a leaked pointer: it goes with the library at
  // dlclose, after the host has closed every database (plugin.h).
  static const PostgresBackend backend;
  return backend;
}

void OpenDatabase(nomtag_storage_db* db, uint32_t flags) {
  try {
    db->sql.open(soci::postgresql, db->location);
  } catch (const soci::soci_error& e) {
    throw Error(NOMTAG_ERR_IO, "cannot connect to the PostgreSQL database " +
                                   Shown(db->location) + ": " + e.what());
  }
  // The server's notices (a WARNING as it shuts down) are not for the
  // user: what matters reaches them as an error, explained.
  PQsetNoticeProcessor(
      Connection(db->sql), [](void*, const char*) {}, nullptr);
  // A call waits this long for a row another worker keeps locked.
  db->sql << "SET lock_timeout = " +
                 std::to_string(std::min<int64_t>(db->wait_ms, 1 << 30));
  db->sql << "SET application_name = 'nomtag'";
  int version = 0;
  std::string about;
  switch (Inspect(db->sql, &version, &about)) {
    case Ownership::kForeign:
      throw Error(NOMTAG_ERR_REFUSED, Shown(db->location) +
                                          " is not a nomtag database (" +
                                          about + "); it was left unchanged");
    case Ownership::kEmpty:
      if (!(flags & NOMTAG_OPEN_CREATE))
        throw Error(NOMTAG_ERR_NOT_FOUND,
                    Shown(db->location) +
                        " is an empty database; `nomtag library add` makes "
                        "it nomtag's");
      break;
    case Ownership::kNomtag:
      if (version > kSchemaVersion)
        throw Error(NOMTAG_ERR_UNSUPPORTED,
                    Shown(db->location) + " is at schema version " +
                        std::to_string(version) +
                        ", newer than this nomtag understands (" +
                        std::to_string(kSchemaVersion) + "); upgrade nomtag");
      break;
  }
  if (version < kSchemaVersion) {
    if (flags & NOMTAG_OPEN_READ_ONLY && version > 0)
      throw Error(NOMTAG_ERR_REFUSED,
                  Shown(db->location) + " is at schema version " +
                      std::to_string(version) + "; open it once for writing");
    Migrate(db->sql);
  }
  if (flags & NOMTAG_OPEN_READ_ONLY) {
    db->sql << "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY";
    db->read_only = true;
  }
}

nomtag_status OpenV2(const char* database, const nomtag_open_options* options,
                     nomtag_storage_db** out, nomtag_error* err) {
  return guard(err, [&] {
    auto db = std::make_unique<nomtag_storage_db>();
    db->backend = &TheBackend();
    db->location = database && *database ? database : configured_database;
    if (db->location.empty())
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "the PostgreSQL storage plugin needs a database: --db "
                  "postgresql://USER@HOST/DB, or `database:` in its "
                  "settings");
    uint32_t flags =
        options ? options->flags : static_cast<uint32_t>(NOMTAG_OPEN_CREATE);
    if (options && options->wait_ms >= 0) db->wait_ms = options->wait_ms;
    try {
      OpenDatabase(db.get(), flags);
    } catch (const soci::soci_error& e) {
      throw Error(NOMTAG_ERR_IO, "cannot open the PostgreSQL database " +
                                     Shown(db->location) + ": " + e.what());
    }
    *out = db.release();
  });
}

nomtag_status Open(const char* database, nomtag_storage_db** out,
                   nomtag_error* err) {
  return OpenV2(database, nullptr, out, err);
}

const nomtag_storage kStorage = sqlstore::StorageTable(Open, OpenV2);

const void* GetInterface(const char* id) {
  return sdk::interface_is(id, NOMTAG_STORAGE_INTERFACE_ID) ? &kStorage
                                                            : nullptr;
}

}  // namespace
}  // namespace nomtag::postgresql

namespace {
// `database:` is a URL (or a libpq connection string), never a path.
const nomtag_setting kSettings[] = {{"database", NOMTAG_SETTING_VALUE}};
}  // namespace

NOMTAG_PLUGIN_WITH_SETTINGS(NOMTAG_KIND_STORAGE,
                            "org.nomtag.storage.postgresql",
                            "PostgreSQL storage (SOCI)", "0.1.0",
                            nomtag::postgresql::Init, nullptr,
                            nomtag::postgresql::GetInterface, kSettings, 1)
