// The SQLite storage plugin: libraries, files, tags, calibration and
// claims in one database file, shared safely by several processes (WAL, a
// busy timeout, BEGIN IMMEDIATE around claims, fenced updates). The table
// itself is shared with storage-postgresql (plugins/storage-sql-common);
// this file opens the file and says how SQLite differs.
#include <nomtag/storage.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>
#include <string>

#include "backend.h"
#include "dialects.h"
#include "lock_holder.h"
#include "schema.h"
#include "storage_db.h"
#include "storage_table.h"
#include "worker_lock.h"

namespace nomtag::sqlite {
namespace {

namespace fs = std::filesystem;
using sdk::Error;
using sdk::guard;

std::string configured_database;  // from plugins.yaml `database:`
const nomtag_host* the_host = nullptr;

void Log(nomtag_log_level level, const std::string& message) {
  if (the_host && the_host->log)
    the_host->log(the_host->host_data, level, message.data(), message.size());
}

// How SQLite differs (see dialects.h), and a worker's liveness: an OFD
// lock on a file beside the database.
class SqliteBackend : public sqlstore::Backend {
 public:
  SqliteBackend() : Backend(sqlstore::kSqliteDialect) {}

  std::string StartWorker(nomtag_storage_db* db) const override {
    auto lock = std::make_shared<WorkerLock>(WorkerLock::Start(db->location));
    db->worker = lock;
    return lock->id();
  }
  bool IsWorkerAlive(nomtag_storage_db* db,
                     const std::string& id) const override {
    return nomtag::sqlite::IsWorkerAlive(db->location, id);
  }
  void Explain(nomtag_storage_db* db,
               const soci::soci_error& e) const override {
    const auto* s = dynamic_cast<const soci::sqlite3_soci_error*>(&e);
    if (s && (s->result() == SQLITE_BUSY || s->result() == SQLITE_LOCKED))
      throw Error(NOMTAG_ERR_IO, BusyMessage(db->location, db->wait_ms));
  }
  void StoreEmbedding(nomtag_storage_db* db, long long file_id,
                      const std::string& plugin_id, const std::string& model_id,
                      const std::string& bytes) const override {
    soci::blob b(db->sql);
    // SOCI 4.0's SQLite backend implements write() only (its
    // write_from_start throws "not implemented"); its offset is 0-based.
    b.write(0, bytes.data(), bytes.size());
    std::string plugin = plugin_id, model = model_id;
    db->sql << "INSERT INTO analysis_embeddings (file_id, plugin_id, "
               "model_id, vector) VALUES (:id, :pid, :m, :b)",
        soci::use(file_id, "id"), soci::use(plugin, "pid"),
        soci::use(model, "m"), soci::use(b, "b");
  }
};

const SqliteBackend& TheBackend() {
  // A plain static, not a leaked pointer: it goes with the library at
  // dlclose, after the host has closed every database (plugin.h).
  static const SqliteBackend backend;
  return backend;
}

std::string DefaultDatabase() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = xdg && *xdg ? fs::path(xdg)
                              : fs::path(home ? home : ".") / ".local/share";
  return (base / "nomtag" / "nomtag.db").string();
}

nomtag_status Init(const nomtag_host* host, const char* settings, size_t len,
                   nomtag_error* err) {
  the_host = host;
  return guard(err, [&] {
    configured_database = sqlstore::DatabaseSetting(settings, len);
  });
}

// The SQLite handle SOCI holds, for what SOCI does not offer.
sqlite_api::sqlite3* Handle(soci::session& sql) {
  return static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
}

// The path as an SQLite URI path (RFC 3986 escapes for what a URI gives a
// meaning to, and for bytes that are not printable ASCII).
std::string UriPath(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7F || c == '%' || c == '?' || c == '#' ||
        c == '"') {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// immutable: for a WAL database in a folder this process cannot write,
// where SQLite has no -shm file to share and reads only an immutable file.
void Connect(nomtag_storage_db* db, bool read_only, bool immutable = false) {
  if (db->sql.get_backend() != nullptr) db->sql.close();
  std::string name = immutable
                         ? "file:" + UriPath(db->location) + "?immutable=1"
                         : db->location;
  db->sql.open(soci::sqlite3,
               "db=\"" + name + "\"" + (read_only ? " readonly=1" : ""));
  db->read_only = read_only;
  sqlite_api::sqlite3_busy_timeout(
      Handle(db->sql),
      static_cast<int>(std::min<int64_t>(db->wait_ms, 1 << 30)));
  db->sql << "PRAGMA foreign_keys=ON";
}

// Turns a read-only connection to a database known to be nomtag's into a
// writing one, at the current schema.
void OpenForWriting(nomtag_storage_db* db) {
  Connect(db, false);
  // WAL lets readers and one writer share the file across processes (a
  // setting kept in the file: only the first writer changes it); NORMAL
  // sync keeps every commit through a process crash.
  std::string mode;
  db->sql << "PRAGMA journal_mode", soci::into(mode);
  if (mode != "wal") db->sql << "PRAGMA journal_mode=WAL";
  db->sql << "PRAGMA synchronous=NORMAL";
  Migrate(db->sql);
}

void OpenDatabase(nomtag_storage_db* db, uint32_t flags) {
  const std::string& path = db->location;
  const bool create = flags & NOMTAG_OPEN_CREATE;
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode))
    throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                path + " is a folder, not a database file");
  bool empty = exists && st.st_size == 0;
  if (!exists || empty) {
    fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    bool parent_exists = parent.empty() || fs::is_directory(parent, ec);
    if (!create)
      throw Error(NOMTAG_ERR_NOT_FOUND,
                  "no nomtag database at " + path +
                      (parent_exists ? ""
                                     : " (the folder " + parent.string() +
                                           " does not exist either)") +
                      "; `nomtag library add` creates one");
    if (!parent_exists) {
      fs::create_directories(parent, ec);
      if (ec)
        throw Error(NOMTAG_ERR_IO, "cannot create the folder " +
                                       parent.string() +
                                       " for the database: " + ec.message());
      Log(NOMTAG_LOG_WARNING,
          "created the folder " + parent.string() + " for the database");
    }
    OpenForWriting(db);
    return;
  }
  // Read-only until the file is known to be nomtag's: another program's
  // database keeps every byte.
  Connect(db, true);
  std::string about;
  int version = 0;
  Ownership owner;
  try {
    owner = Inspect(db->sql, &version, &about);
  } catch (const soci::sqlite3_soci_error& e) {
    // Reading needs no write access: a WAL database whose -shm cannot be
    // made here (a read-only folder or mount) is read as immutable.
    const int code = e.result() & 0xff;
    if ((code != SQLITE_CANTOPEN && code != SQLITE_READONLY) ||
        (!(flags & NOMTAG_OPEN_READ_ONLY) && ::access(path.c_str(), W_OK) == 0))
      throw;
    Connect(db, true, /*immutable=*/true);
    owner = Inspect(db->sql, &version, &about);
  }
  switch (owner) {
    case Ownership::kForeign:
      throw Error(NOMTAG_ERR_REFUSED, path + " is not a nomtag database (" +
                                          about + "); it was left unchanged");
    case Ownership::kEmpty:
      if (!create)
        throw Error(NOMTAG_ERR_NOT_FOUND,
                    path +
                        " is an empty database; `nomtag library add` "
                        "makes it nomtag's");
      OpenForWriting(db);
      return;
    case Ownership::kNomtag:
      break;
  }
  if (version > kSchemaVersion)
    throw Error(NOMTAG_ERR_UNSUPPORTED,
                path + " is at schema version " + std::to_string(version) +
                    ", newer than this nomtag understands (" +
                    std::to_string(kSchemaVersion) + "); upgrade nomtag");
  if (!(flags & NOMTAG_OPEN_READ_ONLY)) {
    OpenForWriting(db);
    return;
  }
  if (version < kSchemaVersion) {
    if (::access(path.c_str(), W_OK) != 0)
      throw Error(NOMTAG_ERR_REFUSED,
                  path + " is at schema version " + std::to_string(version) +
                      " and read-only here; this nomtag reads version " +
                      std::to_string(kSchemaVersion) +
                      " (open it once where it can be written)");
    OpenForWriting(db);
  }
}

// Whether name reads as a URL (`scheme://…`): never a file name here, so
// that `postgresql://…` handed to the wrong plugin makes no folder.
bool LooksLikeUrl(const std::string& name) {
  size_t i = 0;
  while (i < name.size() &&
         (std::isalnum(static_cast<unsigned char>(name[i])) || name[i] == '+' ||
          name[i] == '-' || name[i] == '.'))
    ++i;
  return i > 0 && std::isalpha(static_cast<unsigned char>(name[0])) &&
         name.compare(i, 3, "://") == 0;
}

nomtag_status OpenV2(const char* database, const nomtag_open_options* options,
                     nomtag_storage_db** out, nomtag_error* err) {
  return guard(err, [&] {
    auto db = std::make_unique<nomtag_storage_db>();
    db->backend = &TheBackend();
    db->location = database && *database          ? database
                   : !configured_database.empty() ? configured_database
                                                  : DefaultDatabase();
    if (LooksLikeUrl(db->location))
      throw Error(NOMTAG_ERR_INVALID_ARGUMENT,
                  "the SQLite storage plugin keeps a database in a file, and " +
                      db->location.substr(0, db->location.find("://") + 3) +
                      "… is a URL; a PostgreSQL URL needs the "
                      "storage-postgresql plugin");
    uint32_t flags =
        options ? options->flags : static_cast<uint32_t>(NOMTAG_OPEN_CREATE);
    if (options && options->wait_ms >= 0) db->wait_ms = options->wait_ms;
    try {
      OpenDatabase(db.get(), flags);
    } catch (const soci::sqlite3_soci_error& e) {
      if (e.result() == SQLITE_BUSY || e.result() == SQLITE_LOCKED)
        throw Error(NOMTAG_ERR_IO, BusyMessage(db->location, db->wait_ms));
      throw Error(NOMTAG_ERR_IO,
                  "cannot open the database " + db->location + ": " + e.what());
    } catch (const soci::soci_error& e) {
      throw Error(NOMTAG_ERR_IO,
                  "cannot open the database " + db->location + ": " + e.what());
    }
    *out = db.release();
  });
}

// ABI 1.1: creates what is missing, as before.
nomtag_status Open(const char* database, nomtag_storage_db** out,
                   nomtag_error* err) {
  return OpenV2(database, nullptr, out, err);
}

// NOMTAG_TEST_STORAGE_ABI_1_4: the table as a plugin built for ABI 1.4
// sends it (without library_remove), for the tests of an older plugin.
#ifdef NOMTAG_TEST_STORAGE_ABI_1_4
constexpr uint32_t kStorageSize = offsetof(nomtag_storage, library_remove);
#else
constexpr uint32_t kStorageSize = sizeof(nomtag_storage);
#endif

const nomtag_storage kStorage =
    sqlstore::StorageTable(Open, OpenV2, kStorageSize);

const void* GetInterface(const char* id) {
  return sdk::interface_is(id, NOMTAG_STORAGE_INTERFACE_ID) ? &kStorage
                                                            : nullptr;
}

}  // namespace
}  // namespace nomtag::sqlite

namespace {
// `database:` is a path: relative to plugins.yaml's folder (the host
// resolves it), whatever folder nomtag runs in.
const nomtag_setting kSettings[] = {{"database", NOMTAG_SETTING_PATH}};
}  // namespace

NOMTAG_PLUGIN_WITH_SETTINGS(NOMTAG_KIND_STORAGE, "org.nomtag.storage.sqlite",
                            "SQLite storage (SOCI)", "0.1.0",
                            nomtag::sqlite::Init, nullptr,
                            nomtag::sqlite::GetInterface, kSettings, 1)
