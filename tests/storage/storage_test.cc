// The storage plugins through the host's StorageDatabase, on real
// databases: an SQLite file, and a fresh database on the PostgreSQL test
// server (tests/support/pg_server.sh, a ctest fixture). The contract —
// libraries, the derived "needs reconciliation", fenced claims, worker
// liveness — runs against both (StorageContract); what only one engine has
// (files, triggers, its EXPLAIN) is tested per engine. The per-batch
// queries must be answered from indexes on both.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "dialects.h"
#include "queries.h"
#include "store/storage_database.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;

const PluginRegistry& Registry() {
  static PluginRegistry* reg = [] {
    auto* r = new PluginRegistry;
    PluginConfig config;
    config.plugins.push_back({"storage-sqlite", "", "", 0, {}, "", ""});
    config.plugins.push_back({"storage-postgresql", "", "", 0, {}, "", ""});
    r->LoadAll(config, {NOMTAG_TEST_PLUGIN_DIR});
    return r;
  }();
  return *reg;
}

const StoragePluginRef& Plugin(const std::string& backend) {
  const std::string id = "org.nomtag.storage." + backend;
  for (const auto& p : Registry().storages())
    if (p.id == id) return p;
  ADD_FAILURE() << "storage plugin " << id << " did not load";
  std::abort();
}

// The test server's URL (database `nomtag`): $NOMTAG_TEST_PG_URL, else
// the file ctest's fixture wrote it to ($NOMTAG_TEST_PG_URL_FILE).
std::string ServerUrl() {
  if (const char* url = std::getenv("NOMTAG_TEST_PG_URL")) return url;
  const char* file = std::getenv("NOMTAG_TEST_PG_URL_FILE");
  std::string url;
  if (file) std::getline(std::ifstream(file), url);
  return url;
}

// Runs sql on the test server's database db (its own connection); the
// rows' first columns, one per line.
std::string Psql(const std::string& db, const std::string& sql) {
  std::string url = ServerUrl();
  size_t slash = url.find("///"), query = url.find('?');
  url = url.substr(0, slash + 3) + db + url.substr(query);
  PGconn* conn = PQconnectdb(url.c_str());
  std::string out;
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "cannot connect to " << url << ": "
                  << PQerrorMessage(conn);
  } else {
    for (size_t at = 0; at < sql.size();) {  // ';'-separated statements
      size_t end = sql.find(";\n", at);
      std::string one =
          sql.substr(at, end == std::string::npos ? end : end - at);
      at = end == std::string::npos ? sql.size() : end + 2;
      PGresult* r = PQexec(conn, one.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK &&
          PQresultStatus(r) != PGRES_TUPLES_OK)
        ADD_FAILURE() << one << ": " << PQerrorMessage(conn);
      for (int i = 0; i < PQntuples(r); ++i)
        out += std::string(PQgetvalue(r, i, 0)) + "\n";
      PQclear(r);
    }
  }
  PQfinish(conn);
  return out;
}

sqlstore::Queries SqliteQueries() {
  return sqlstore::BuildQueries(sqlstore::kSqliteDialect);
}

// SQLite's plan for sql, one step a line ("SEARCH f USING INDEX …").
std::string SqlitePlan(sqlite3* raw, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  std::string explain = "EXPLAIN QUERY PLAN " + sql;
  if (sqlite3_prepare_v2(raw, explain.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(raw);
    return "";
  }
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW)
    plan +=
        std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) +
        "\n";
  sqlite3_finalize(st);
  return plan;
}

class StorageFixture : public ::testing::Test {
 protected:
  explicit StorageFixture(std::string backend) : backend_(std::move(backend)) {}
  void SetUp() override {
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    dir_ = fs::temp_directory_path() /
           ("nomtag-storage-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (backend_ == "postgresql") {
      // Loud, never a skip: ctest starts the server (the `postgresql`
      // fixture); without it these tests cannot say anything.
      ASSERT_FALSE(ServerUrl().empty())
          << "no PostgreSQL test server (neither NOMTAG_TEST_PG_URL nor the "
             "file NOMTAG_TEST_PG_URL_FILE names one): run through ctest, "
             "whose fixture starts one (tests/support/pg_server.sh)";
      static std::atomic<int> n{0};
      pg_db_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(n++);
      Psql("nomtag", "CREATE DATABASE " + pg_db_);
      std::string url = ServerUrl();
      size_t slash = url.find("///"), query = url.find('?');
      database_ = url.substr(0, slash + 3) + pg_db_ + url.substr(query);
    } else {
      database_ = (dir_ / "nomtag.db").string();
    }
    db_ = Open();
  }
  void TearDown() override {
    db_.reset();
    if (!pg_db_.empty())
      Psql("nomtag", "DROP DATABASE IF EXISTS " + pg_db_ + " WITH (FORCE)");
    fs::remove_all(dir_);
  }
  const StoragePluginRef& plugin() const { return Plugin(backend_); }
  // A server sees a dead worker's connection close at once, but
  // asynchronously: wait (up to 2 s) until no worker lock of this
  // database is held, as there is none while no handle is open.
  void WaitUntilDeadWorkersUnlocked() {
    if (pg_db_.empty()) return;
    for (int i = 0; i < 100; ++i) {
      if (Psql(pg_db_,
               "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND "
               "database = (SELECT oid FROM pg_database WHERE datname = "
               "current_database())") == "0\n")
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  std::unique_ptr<StorageDatabase> Open(
      OpenOptions::Access access = OpenOptions::Access::kCreate) {
    OpenOptions options;
    options.access = access;
    auto db = StorageDatabase::Open(plugin(), database_, options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(*db) : nullptr;
  }
  int64_t AddLibrary(const std::string& name, WriteMode mode) {
    Library lib;
    lib.name = name;
    lib.root = "/music/" + name;
    lib.mode = mode;
    auto id = db_->AddLibrary(lib);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : 0;
  }
  // n files with tags, as a scan plus an import would leave them.
  void AddFiles(int64_t lib, int n, const std::string& prefix = "f") {
    ASSERT_TRUE(db_->Begin().ok());
    for (int i = 0; i < n; ++i) {
      StoredFile f;
      f.path = prefix + std::to_string(i) + ".flac";
      f.size = 1000 + i;
      f.format = "flac";
      ASSERT_TRUE(db_->RecordFile(lib, f, "").ok());
      ASSERT_TRUE(db_->ReplaceTags(lib, f.path,
                                   {{"mood-strict", {"happy"}},
                                    {"bpm", {std::to_string(100 + i)}}})
                      .ok());
    }
    ASSERT_TRUE(db_->Commit().ok());
  }
  // Claims and records everything pending, as a reconcile would.
  int WriteAll(int64_t lib, WriteMode mode) {
    int n = 0;
    auto cal = db_->CalibrationHash();
    for (;;) {
      auto batch = db_->ClaimBatch(lib, "test", 50, 60000);
      EXPECT_TRUE(batch.ok());
      if (!batch.ok() || batch->empty()) return n;
      for (const auto& f : *batch) {
        auto r = db_->SetWritten(f, mode, *cal, true, {}, {}, "");
        EXPECT_TRUE(r.ok() && *r);
        ++n;
      }
    }
  }
  int64_t Pending(int64_t lib) { return *db_->CountPending(lib); }

  const std::string backend_;
  fs::path dir_;
  std::string database_;  // the path or URL the test opens
  std::string pg_db_;     // PostgreSQL: the test's own database
  std::unique_ptr<StorageDatabase> db_;
};

// The contract every storage plugin keeps, run against each backend.
class StorageContract : public StorageFixture,
                        public ::testing::WithParamInterface<const char*> {
 protected:
  StorageContract() : StorageFixture(GetParam()) {}
};

INSTANTIATE_TEST_SUITE_P(Backends, StorageContract,
                         ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// What only SQLite has: a file, triggers, its query planner.
class StorageTest : public StorageFixture {
 protected:
  StorageTest() : StorageFixture("sqlite") {}
};

// What only PostgreSQL has: a server, its query planner.
class PostgresStorage : public StorageFixture {
 protected:
  PostgresStorage() : StorageFixture("postgresql") {}
};

TEST_P(StorageContract, LibrariesAreFoundByNameOrIdAndNamesAreUnique) {
  int64_t id = AddLibrary("music", WriteMode::kMinimal);
  auto by_name = db_->FindLibrary("music");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, id);
  EXPECT_EQ(by_name->mode, WriteMode::kMinimal);
  EXPECT_TRUE(db_->FindLibrary(std::to_string(id)).ok());
  auto missing = db_->FindLibrary("nope");
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("music"), std::string::npos);
  Library dup;
  dup.name = "music";
  dup.root = "/elsewhere";
  EXPECT_FALSE(db_->AddLibrary(dup).ok());
}

TEST_P(StorageContract, LibraryOptionsAreKept) {
  Library lib;
  lib.name = "music";
  lib.root = "/music";
  lib.keep_mtime = true;
  lib.copy_only = true;
  lib.break_hardlinks = true;
  lib.padding = 8192;
  ASSERT_TRUE(db_->AddLibrary(lib).ok());
  auto found = db_->FindLibrary("music");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->keep_mtime);
  EXPECT_TRUE(found->copy_only);
  EXPECT_TRUE(found->break_hardlinks);
  EXPECT_EQ(found->padding, 8192u);

  found->padding = 0;
  ASSERT_TRUE(db_->UpdateLibrary(*found).ok());
  EXPECT_EQ(db_->FindLibrary("music")->padding, 0u);

  found->padding = (16u << 20) + 1;
  auto refused = db_->UpdateLibrary(*found);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("padding"), std::string::npos);
  EXPECT_EQ(db_->FindLibrary("music")->padding, 0u) << "nothing stored";
}

// A database made by the first release (schema 1: no padding, no file
// identity or written digest) is migrated on open and keeps everything it
// had.
TEST_F(StorageTest, FirstReleaseDatabaseIsMigrated) {
  int64_t lib = AddLibrary("music", WriteMode::kMinimal);
  AddFiles(lib, 3);
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TRIGGER libraries_key_on_insert;"
                         "DROP TRIGGER libraries_recount_on_mode;"
                         "DROP TRIGGER calibration_recount_on_insert;"
                         "DROP TRIGGER calibration_recount_on_update;"
                         "DROP TRIGGER calibration_recount_on_delete;"
                         "DROP TRIGGER files_pending_on_insert;"
                         "DROP TRIGGER files_pending_on_delete;"
                         "DROP TRIGGER files_pending_on_update;"
                         "ALTER TABLE libraries DROP COLUMN desired_key;"
                         "ALTER TABLE libraries DROP COLUMN pending_count;"
                         "ALTER TABLE libraries DROP COLUMN padding;"
                         "DROP INDEX files_by_claimer;"
                         "ALTER TABLE files DROP COLUMN claim_expires_at;"
                         "PRAGMA application_id = 0;"
                         "ALTER TABLE files DROP COLUMN dev;"
                         "ALTER TABLE files DROP COLUMN inode;"
                         "ALTER TABLE files DROP COLUMN written_digest;"
                         "DROP TABLE analyses; DROP TABLE analysis_heads;"
                         "DROP TABLE analysis_descriptors;"
                         "DROP TABLE analysis_embeddings;"
                         "DELETE FROM schema_version WHERE version > 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  sqlite3_close(raw);

  db_ = Open();
  ASSERT_NE(db_, nullptr);
  auto found = db_->FindLibrary("music");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->mode, WriteMode::kMinimal);
  EXPECT_EQ(found->padding, 0u) << "the default";
  EXPECT_EQ(Pending(lib), 3);
  found->padding = 4096;
  ASSERT_TRUE(db_->UpdateLibrary(*found).ok());
  EXPECT_EQ(db_->FindLibrary("music")->padding, 4096u);
}

std::string Bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Issue 17.4: another program's database is refused, whatever the access
// asked for, with every byte as it was and nothing made beside it.
TEST_F(StorageTest, AnotherProgramsDatabaseIsRefusedAndLeftByteIdentical) {
  fs::path theirs = dir_ / "theirs.db";
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(theirs.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "CREATE TABLE files (name TEXT);"
                         "CREATE TABLE schema_version (v INTEGER);"
                         "INSERT INTO files VALUES ('keep me')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  const std::string before = Bytes(theirs);
  for (auto access : {OpenOptions::Access::kRead, OpenOptions::Access::kWrite,
                      OpenOptions::Access::kCreate}) {
    OpenOptions options;
    options.access = access;
    auto db = StorageDatabase::Open(plugin(), theirs.string(), options);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), Status::Code::kRefused);
    EXPECT_NE(db.status().message().find("not a nomtag database"),
              std::string::npos)
        << db.status().ToString();
    EXPECT_NE(db.status().message().find("files"), std::string::npos);
  }
  EXPECT_EQ(Bytes(theirs), before);
  EXPECT_FALSE(fs::exists(dir_ / "theirs.db-wal"));
  EXPECT_FALSE(fs::exists(dir_ / "theirs.db-shm"));
}

TEST_F(StorageTest, OnlyACreatingCommandCreatesADatabase) {
  fs::path missing = dir_ / "no" / "such" / "x.db";
  for (auto access :
       {OpenOptions::Access::kRead, OpenOptions::Access::kWrite}) {
    OpenOptions options;
    options.access = access;
    auto db = StorageDatabase::Open(plugin(), missing.string(), options);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), Status::Code::kNotFound);
    EXPECT_NE(db.status().message().find("does not exist"), std::string::npos)
        << db.status().ToString();
  }
  EXPECT_FALSE(fs::exists(dir_ / "no")) << "no folder made by a reader";
  OpenOptions create;
  create.access = OpenOptions::Access::kCreate;
  auto db = StorageDatabase::Open(plugin(), missing.string(), create);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE(fs::exists(missing));
}

// A database nomtag made is read without being written: no WAL switch, no
// migration, the file byte-identical.
TEST_F(StorageTest, ReadingChangesNothing) {
  AddLibrary("music", WriteMode::kFull);
  db_.reset();
  const std::string before = Bytes(database_);
  db_ = Open(OpenOptions::Access::kRead);
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(db_->Libraries()->size(), 1u);
  EXPECT_FALSE(db_->StartWorker().ok()) << "a reader claims nothing";
  db_.reset();
  EXPECT_EQ(Bytes(database_), before);
}

TEST_P(StorageContract, ScannedFilesArePendingUntilWrittenOnce) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 20);
  EXPECT_EQ(Pending(lib), 20);
  EXPECT_EQ(WriteAll(lib, WriteMode::kFull), 20);
  EXPECT_EQ(Pending(lib), 0);
  EXPECT_EQ(WriteAll(lib, WriteMode::kFull), 0) << "nothing left to claim";
}

TEST_P(StorageContract, ChangedTagsArePendingAndIdenticalReimportIsNot) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 5);
  WriteAll(lib, WriteMode::kFull);
  ASSERT_TRUE(db_->ReplaceTags(lib, "f2.flac",
                               {{"mood-strict", {"happy"}}, {"bpm", {"102"}}})
                  .ok());
  EXPECT_EQ(Pending(lib), 0) << "same tags again: nothing to do";
  ASSERT_TRUE(db_->ReplaceTags(lib, "f2.flac", {{"bpm", {"90"}}}).ok());
  EXPECT_EQ(Pending(lib), 1);
  auto tags = db_->ListPending(lib);
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].path, "f2.flac");
}

TEST_P(StorageContract, ModeChangeReportsAffectedFiles) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 7);
  WriteAll(lib, WriteMode::kFull);
  auto l = db_->FindLibrary("music");
  l->mode = WriteMode::kNone;
  auto affected = db_->UpdateLibrary(*l);
  ASSERT_TRUE(affected.ok());
  EXPECT_EQ(*affected, 7);
  l->mode = WriteMode::kFull;
  EXPECT_EQ(*db_->UpdateLibrary(*l), 0) << "back to what was written";
}

TEST_P(StorageContract,
       CalibrationChangeMarksExactlyTheFilesWhoseModeWritesTiers) {
  int64_t none = AddLibrary("none", WriteMode::kNone);
  int64_t minimal = AddLibrary("minimal", WriteMode::kMinimal);
  int64_t full = AddLibrary("full", WriteMode::kFull);
  AddFiles(none, 3, "n");
  AddFiles(minimal, 4, "m");
  AddFiles(full, 5, "f");
  WriteAll(none, WriteMode::kNone);
  WriteAll(minimal, WriteMode::kMinimal);
  WriteAll(full, WriteMode::kFull);
  ASSERT_TRUE(db_->SetCalibration("cal-1", "{}").ok());
  EXPECT_EQ(Pending(none), 0);
  EXPECT_EQ(Pending(minimal), 4);
  EXPECT_EQ(Pending(full), 5);
  WriteAll(minimal, WriteMode::kMinimal);
  WriteAll(full, WriteMode::kFull);
  ASSERT_TRUE(db_->SetCalibration("cal-2", "{}").ok());
  EXPECT_EQ(Pending(none), 0);
  EXPECT_EQ(Pending(minimal), 4);
  EXPECT_EQ(Pending(full), 5);
}

TEST_P(StorageContract, MissingFilesAreKeptWithTheirTagsButNotPending) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 3);
  auto files = db_->Files(lib);
  ASSERT_TRUE(db_->MarkMissing({(*files)[0].id}).ok());
  EXPECT_EQ(Pending(lib), 2);
  auto again = db_->Files(lib);
  EXPECT_EQ(again->size(), 3u);
  EXPECT_TRUE((*again)[0].missing);
  EXPECT_EQ(db_->FileTags((*again)[0].id)->size(), 2u) << "tags kept";
}

// The pending count the API polls is kept per library (schema.cc's
// triggers); after every kind of change it must equal the full count.
class PendingCountTest : public StorageTest {
 protected:
  // kCountNeeding, run by hand with the key the host computes.
  int64_t FullCount(int64_t lib) {
    auto l = db_->FindLibrary(std::to_string(lib));
    std::string mode = WriteModeName(l->mode);
    std::string dk =
        mode == "none" ? "none|" : mode + "|" + *db_->CalibrationHash();
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, SqliteQueries().count_needing.c_str(), -1,
                                 &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":lib"), lib);
    sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":dk"), dk.c_str(),
                      -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return n;
  }
  void ExpectAgree(int64_t lib, int64_t expected, const char* after) {
    SCOPED_TRACE(after);
    EXPECT_EQ(FullCount(lib), expected);
    EXPECT_EQ(Pending(lib), expected);
    EXPECT_EQ(db_->StatusOf(lib, 60000)->pending, expected);
  }
};

TEST_F(PendingCountTest, KeptThroughEveryKindOfChange) {
  int64_t a = AddLibrary("a", WriteMode::kFull);
  int64_t b = AddLibrary("b", WriteMode::kMinimal);
  ExpectAgree(a, 0, "a new library");
  AddFiles(a, 12, "a");
  AddFiles(b, 5, "b");
  ExpectAgree(a, 12, "files added");
  ExpectAgree(b, 5, "files added to the other library");
  // Part of a: written, then one of those given new tags, one re-imported
  // unchanged, one marked missing, one failing.
  auto batch = db_->ClaimBatch(a, "w", 8, 60000);
  ASSERT_EQ(batch->size(), 8u);
  auto cal = db_->CalibrationHash();
  for (size_t i = 0; i < 7; ++i)
    ASSERT_TRUE(*db_->SetWritten((*batch)[i], WriteMode::kFull, *cal, true, {},
                                 {}, ""));
  ASSERT_TRUE(db_->ReleaseClaim((*batch)[7], "refused").ok());
  ExpectAgree(a, 5, "seven written, one failed");
  ASSERT_TRUE(db_->ReplaceTags(a, (*batch)[0].path, {{"bpm", {"1"}}}).ok());
  ExpectAgree(a, 6, "new tags for a written file");
  auto files = db_->Files(a);
  ASSERT_TRUE(db_->MarkMissing({(*files)[1].id, (*files)[11].id}).ok());
  const int64_t after_missing = FullCount(a);
  ExpectAgree(a, after_missing, "two marked missing");
  StoredFile back;
  back.path = (*files)[11].path;
  back.format = "flac";
  ASSERT_TRUE(db_->RecordFile(a, back, "").ok());
  ExpectAgree(a, FullCount(a), "one seen again");
  // A file holding a namespace nomtag did not write and no tags: held in
  // full mode (not pending) until it has tags, pending in mode none.
  StoredFile theirs;
  theirs.path = "theirs.flac";
  theirs.format = "flac";
  theirs.has_namespace = true;
  const int64_t before_theirs = FullCount(a);
  ASSERT_TRUE(db_->RecordFile(a, theirs, "").ok());
  ExpectAgree(a, before_theirs, "a foreign namespace, no tags: held");
  ASSERT_TRUE(db_->ReplaceTags(a, "theirs.flac", {{"bpm", {"7"}}}).ok());
  ExpectAgree(a, before_theirs + 1, "the held file got tags");
  // Mode and calibration: every file's wanted key moves at once.
  auto lib = db_->FindLibrary("a");
  lib->mode = WriteMode::kNone;
  auto affected = db_->UpdateLibrary(*lib);
  ASSERT_TRUE(affected.ok());
  EXPECT_EQ(*affected, FullCount(a));
  ExpectAgree(a, FullCount(a), "mode none");
  EXPECT_EQ(FullCount(a), 12) << "every present file";
  EXPECT_EQ(WriteAll(a, WriteMode::kNone), 12);
  ExpectAgree(a, 0, "written in mode none");
  ASSERT_TRUE(db_->SetCalibration("cal-1", "{}").ok());
  ExpectAgree(a, 0, "a calibration: mode none writes no tiers");
  ExpectAgree(b, 5, "a calibration, unwritten files");
  WriteAll(b, WriteMode::kMinimal);
  ExpectAgree(b, 0, "b written under cal-1");
  ASSERT_TRUE(db_->SetCalibration("", "").ok());
  ExpectAgree(b, 5, "calibration cleared");
  lib->mode = WriteMode::kFull;
  db_->UpdateLibrary(*lib);
  ExpectAgree(a, 12, "mode full again, no calibration");
}

TEST_F(PendingCountTest, TheAPIsCountIsOneRowOfLibraries) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 300);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  std::string plan = SqlitePlan(raw, sqlstore::kReadPendingCount);
  sqlite3_close(raw);
  EXPECT_EQ(plan, "SEARCH libraries USING INTEGER PRIMARY KEY (rowid=?)\n");
  EXPECT_EQ(Pending(lib), 300);
}

TEST_F(PendingCountTest, ADatabaseFromBeforeTheCountsGetsThem) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 6);
  auto batch = db_->ClaimBatch(lib, "w", 2, 60000);
  for (const auto& f : *batch)
    ASSERT_TRUE(*db_->SetWritten(f, WriteMode::kFull, "", true, {}, {}, ""));
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TRIGGER libraries_key_on_insert;"
                         "DROP TRIGGER libraries_recount_on_mode;"
                         "DROP TRIGGER calibration_recount_on_insert;"
                         "DROP TRIGGER calibration_recount_on_update;"
                         "DROP TRIGGER calibration_recount_on_delete;"
                         "DROP TRIGGER files_pending_on_insert;"
                         "DROP TRIGGER files_pending_on_delete;"
                         "DROP TRIGGER files_pending_on_update;"
                         "ALTER TABLE libraries DROP COLUMN desired_key;"
                         "ALTER TABLE libraries DROP COLUMN pending_count;"
                         "DROP INDEX analyses_by_claimer;"
                         "DELETE FROM schema_version WHERE version > 5",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  sqlite3_close(raw);
  db_ = Open();
  ASSERT_NE(db_, nullptr);
  ExpectAgree(lib, 4, "migrated");
}

TEST_P(StorageContract, ClaimsAreExclusiveWhileTheLeaseLives) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 10);
  auto other = Open();
  std::string a = *db_->StartWorker(), b = *other->StartWorker();
  EXPECT_NE(a, b);
  auto ca = db_->ClaimBatch(lib, a, 6, 60000);
  auto cb = other->ClaimBatch(lib, b, 6, 60000);
  ASSERT_TRUE(ca.ok() && cb.ok());
  EXPECT_EQ(ca->size(), 6u);
  EXPECT_EQ(cb->size(), 4u) << "only what a did not take";
  for (const auto& fa : *ca)
    for (const auto& fb : *cb) EXPECT_NE(fa.id, fb.id);
  auto st = db_->StatusOf(lib, 60000);
  EXPECT_EQ(st->in_progress, 10);
  auto holders = db_->ClaimHolders(lib);
  ASSERT_TRUE(holders.ok()) << holders.status().ToString();
  ASSERT_EQ(holders->size(), 2u);
  for (const auto& h : *holders) EXPECT_TRUE(h.alive) << h.worker;
}

// Issue 16.3: the expiry is stored with the claim; every claimer judges it
// alike, whatever lease it would take itself.
TEST_P(StorageContract, TheLeaseIsTheClaimersNotTheOnlookers) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 1);
  auto other = Open();
  std::string a = *db_->StartWorker(), b = *other->StartWorker();
  ASSERT_EQ(db_->ClaimBatch(lib, a, 1, 60000)->size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(other->ClaimBatch(lib, b, 1, 1)->empty())
      << "b's own short lease does not make a's claim expire";
}

TEST_P(StorageContract, ExpiredLeaseCannotOverwriteTheNewOwnersRecord) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 1);
  auto other = Open();
  std::string a = *db_->StartWorker(), b = *other->StartWorker();
  auto slow = db_->ClaimBatch(lib, a, 1, 1);
  ASSERT_EQ(slow->size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // a is alive (its lock is held) but its lease ran out: b takes over.
  auto fast = other->ClaimBatch(lib, b, 1, 60000);
  ASSERT_EQ(fast->size(), 1u);
  EXPECT_EQ((*fast)[0].id, (*slow)[0].id);
  EXPECT_NE((*fast)[0].claim_token, (*slow)[0].claim_token);
  EXPECT_FALSE(*db_->CheckClaim((*slow)[0], 60000))
      << "the gate before a's commit says no";
  EXPECT_TRUE(*other->CheckClaim((*fast)[0], 60000));
  auto fast_done =
      other->SetWritten((*fast)[0], WriteMode::kFull, "", true, {}, {}, "");
  ASSERT_TRUE(fast_done.ok());
  EXPECT_TRUE(*fast_done);
  EXPECT_EQ(Pending(lib), 0);
  auto slow_done =
      db_->SetWritten((*slow)[0], WriteMode::kNone, "", false, {}, {}, "");
  ASSERT_TRUE(slow_done.ok());
  EXPECT_FALSE(*slow_done) << "the stale worker must not record";
  EXPECT_EQ(Pending(lib), 1)
      << "a's write may have landed after b's: the file is due again";
  EXPECT_EQ(db_->StatusOf(lib, 60000)->failed, 0);
  auto again = db_->ClaimBatch(lib, a, 1, 60000);
  ASSERT_EQ(again->size(), 1u) << "and can be claimed again at once";
}

// Fencing both ways: a stale worker's record marks the file due, and the
// current owner (still working) can no longer record it in sync either.
TEST_P(StorageContract, ASupersededRecordFencesOffTheCurrentOwner) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 1);
  auto other = Open();
  std::string a = *db_->StartWorker(), b = *other->StartWorker();
  auto slow = db_->ClaimBatch(lib, a, 1, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto fast = other->ClaimBatch(lib, b, 1, 60000);
  ASSERT_EQ(fast->size(), 1u);
  EXPECT_FALSE(
      *db_->SetWritten((*slow)[0], WriteMode::kFull, "", true, {}, {}, ""));
  EXPECT_FALSE(
      *other->SetWritten((*fast)[0], WriteMode::kFull, "", true, {}, {}, ""))
      << "which write landed last is unknown: nobody may call it in sync";
  EXPECT_EQ(Pending(lib), 1);
}

// Issue 16.15: a killed worker's claims are taken over at once, not when
// its lease runs out.
TEST_P(StorageContract, ADeadWorkersClaimsAreTakenOverAtOnce) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 3);
  db_.reset();
  pid_t child = ::fork();
  if (child == 0) {  // claims for ten minutes, then dies without a word
    auto db = Open(OpenOptions::Access::kWrite);
    auto w = db->StartWorker();
    auto c = db->ClaimBatch(lib, *w, 10, 600000);
    ::_exit(w.ok() && c.ok() && c->size() == 3 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  WaitUntilDeadWorkersUnlocked();
  db_ = Open();
  EXPECT_EQ(db_->StatusOf(lib, 0)->in_progress, 3);
  auto holders = db_->ClaimHolders(lib);
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_FALSE((*holders)[0].alive);
  std::string me = *db_->StartWorker();
  auto taken = db_->ClaimBatch(lib, me, 10, 60000);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->size(), 3u);
  if (backend_ == "sqlite") {
    EXPECT_FALSE(fs::exists(dir_ / "nomtag.db-workers" / (*holders)[0].worker))
        << "the dead worker's file is gone";
  }
}

// The same for analysis: liveness is the worker's lock, so a killed
// `analyze` leaves nothing for a rerun to wait on.
TEST_P(StorageContract, ADeadAnalysersClaimsAreTakenOverAtOnce) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 3);
  const AnalysisKey key{"descriptors", "1", "d"};
  db_.reset();
  pid_t child = ::fork();
  if (child == 0) {  // claims for ten minutes, then dies without a word
    auto db = Open(OpenOptions::Access::kWrite);
    auto w = db->StartWorker();
    auto c = db->ClaimAnalysis(lib, key, 0, w.ok() ? *w : "", 10, 600000);
    ::_exit(w.ok() && c.ok() && c->size() == 3 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  WaitUntilDeadWorkersUnlocked();
  db_ = Open();
  auto alive = Open();
  std::string other = *alive->StartWorker();
  auto held = alive->ClaimAnalysis(lib, key, 0, other, 10, 600000);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->size(), 3u) << "the dead worker's claims are free at once";
  std::string me = *db_->StartWorker();
  auto taken = db_->ClaimAnalysis(lib, key, 0, me, 10, 600000);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_TRUE(taken->empty()) << "a live worker's claims are not";
}

// A write changes only the nom namespace, never the audio: recording it
// carries the analyses made at exactly the stamp the write found to the
// stamp it left, so nomtag's own write never makes a file due again. An
// analysis of bytes someone else changed since, a write whose stamp is
// not known, and a record the claim token refused carry nothing.
TEST_P(StorageContract, AWriteCarriesOnlyAnalysesOfTheBytesItFound) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 4);  // f<i>.flac: size 1000 + i, mtime 0
  const AnalysisKey key{"descriptors", "1", "d"};
  std::string me = *db_->StartWorker();
  auto analysing = db_->ClaimAnalysis(lib, key, 0, me, 10, 600000);
  ASSERT_TRUE(analysing.ok()) << analysing.status().ToString();
  ASSERT_EQ(analysing->size(), 4u);
  for (const auto& f : *analysing) {
    AnalysisOutcome o;
    o.descriptors = {{"", "bpm", 120}};
    o.audio_seconds = 6;
    ASSERT_TRUE(*db_->RecordAnalysis(f, key, o));
  }
  ASSERT_TRUE(db_->AnalysisDue(lib, key, 0)->empty());

  auto batch = db_->ClaimBatch(lib, me, 10, 60000);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 4u);
  std::map<std::string, ClaimedFile> claimed;
  for (const auto& f : *batch) claimed[f.path] = f;
  auto after = [](uint64_t i) {
    return FileStamp{true, 5000 + i, 777, 1, 100 + i};
  };
  auto as_analysed = [](uint64_t i) {
    return FileStamp{true, 1000 + i, 0, 1, 10 + i};
  };
  // f0 alone (the record's own transaction): found as analysed.
  ASSERT_TRUE(*db_->SetWritten(claimed["f0.flac"], WriteMode::kFull, "", true,
                               as_analysed(0), after(0), ""));
  // f1 and f2 in one transaction: f1 changed by another program after its
  // analysis (another mtime), f2's before not known.
  FileStamp changed = as_analysed(1);
  changed.mtime_ns = 555;
  std::vector<TagStore::Written> group{
      {&claimed["f1.flac"], true, changed, after(1), ""},
      {&claimed["f2.flac"], true, FileStamp{}, after(2), ""}};
  for (const auto& r : db_->SetWrittenAll(group, WriteMode::kFull, ""))
    ASSERT_TRUE(r.ok() && *r);
  // f3: found as analysed, but the claim was lost meanwhile.
  ClaimedFile stale = claimed["f3.flac"];
  --stale.claim_token;
  ASSERT_FALSE(*db_->SetWritten(stale, WriteMode::kFull, "", true,
                                as_analysed(3), after(3), ""));
  // The next scan finds f3 as the write left it.
  ASSERT_TRUE(db_->Begin().ok());
  StoredFile f3;
  f3.path = "f3.flac";
  f3.size = after(3).size;
  f3.mtime_ns = after(3).mtime_ns;
  f3.format = "flac";
  ASSERT_TRUE(db_->RecordFile(lib, f3, "").ok());
  ASSERT_TRUE(db_->Commit().ok());

  auto due = db_->AnalysisDue(lib, key, 0);
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  std::set<std::string> paths;
  for (const auto& f : *due) paths.insert(f.path);
  EXPECT_EQ(paths, (std::set<std::string>{"f1.flac", "f2.flac", "f3.flac"}));
  auto counts = db_->AnalysisStatusOf(lib, key, 600000);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->due, 3);
  EXPECT_EQ(counts->analysed, 1);
}

// Issue 17.10: a run never re-claims what it holds, even past its lease
// ("2 failed" for one file with --lease-ms 1).
TEST_P(StorageContract, AWorkerNeverReclaimsWhatItHolds) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 2);
  std::string me = *db_->StartWorker();
  ASSERT_EQ(db_->ClaimBatch(lib, me, 1, 1)->size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto second = db_->ClaimBatch(lib, me, 10, 1);
  ASSERT_EQ(second->size(), 1u) << "only the other file";
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(db_->ClaimBatch(lib, me, 10, 1)->empty());
  EXPECT_FALSE(db_->ClaimBatch(lib, me, 10, -5).ok()) << "no negative lease";
}

TEST_P(StorageContract, RenewedClaimsOutliveTheirFirstLease) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 2);
  auto other = Open();
  std::string a = *db_->StartWorker(), b = *other->StartWorker();
  auto mine = db_->ClaimBatch(lib, a, 2, 1);
  ASSERT_EQ(mine->size(), 2u);
  ASSERT_TRUE(db_->RenewClaims(a, 60000).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(other->ClaimBatch(lib, b, 10, 60000)->empty());
  EXPECT_TRUE(*db_->CheckClaim((*mine)[0], 60000));
}

TEST_P(StorageContract, ReleasedClaimKeepsTheFilePendingWithItsError) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 2);
  auto batch = db_->ClaimBatch(lib, "w", 2, 60000);
  ASSERT_TRUE(db_->ReleaseClaim((*batch)[0], "disk full").ok());
  auto st = db_->StatusOf(lib, 60000);
  EXPECT_EQ(st->pending, 2);
  EXPECT_EQ(st->failed, 1);
  ASSERT_EQ(st->failures.size(), 1u);
  EXPECT_EQ(st->failures[0].second, "disk full");
}

TEST_F(StorageTest, CorruptTagRowsGiveAClearError) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 2);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "INSERT INTO tags VALUES (1, 'Bad Key', 0, 'x')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto tags = db_->FileTags(1);
  ASSERT_FALSE(tags.ok());
  EXPECT_EQ(tags.status().code(), Status::Code::kCorrupt);
  EXPECT_NE(tags.status().message().find("Bad Key"), std::string::npos);
  EXPECT_TRUE(db_->FileTags(2).ok()) << "other files are unaffected";
}

TEST_F(StorageTest, DatabaseFromANewerNomtagIsRefused) {
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "INSERT INTO schema_version VALUES (99)", nullptr, nullptr,
               nullptr);
  sqlite3_close(raw);
  auto db = StorageDatabase::Open(plugin(), (dir_ / "nomtag.db").string());
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("newer"), std::string::npos);
}

// Each per-batch query must be answered from an index: no full scan of
// the files table to find the next batch.
TEST_F(StorageTest, PerBatchQueriesUseAnIndex) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 300);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  const sqlstore::Queries q = SqliteQueries();
  for (const std::string& sql :
       {q.pick_for_claim, q.count_needing, q.count_in_progress, q.count_failed,
        q.list_pending, q.list_failures}) {
    SCOPED_TRACE(sql);
    std::string plan = SqlitePlan(raw, sql);
    // Every read of files is a range of an index on the mismatch itself:
    // not a scan, and not just the library's prefix of an index (which
    // would walk every file of the library, in sync or not).
    EXPECT_EQ(plan.find("SCAN f"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("(library_id=? AND missing=?)"), std::string::npos)
        << plan;
    size_t searches = 0;
    for (size_t at = plan.find("SEARCH f USING"); at != std::string::npos;
         at = plan.find("SEARCH f USING", at + 1))
      ++searches;
    EXPECT_EQ(searches, 4u) << plan;
  }
  sqlite3_close(raw);
}

// Schema 7: a dead analyser's claims are found from the index of claimed
// analyses, in a database made at version 6 too (migrated on open), never
// by walking every analysis or every file of the library.
TEST_F(StorageTest, AVersion6DatabaseFindsAnalysisClaimsFromAnIndex) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 300);
  std::string me = *db_->StartWorker();
  ASSERT_EQ(
      db_->ClaimAnalysis(lib, {"descriptors", "1", "d"}, 0, me, 10, 600000)
          ->size(),
      10u);
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  auto one = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql, -1, &st, nullptr), SQLITE_OK);
    std::string out =
        sqlite3_step(st) == SQLITE_ROW
            ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0))
            : "";
    sqlite3_finalize(st);
    return out;
  };
  const char* has_index =
      "SELECT COUNT(*) FROM sqlite_master WHERE name = 'analyses_by_claimer'";
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP INDEX analyses_by_claimer;"
                         "DELETE FROM schema_version WHERE version > 6",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  EXPECT_EQ(one(has_index), "0");
  sqlite3_close(raw);

  db_ = Open();  // migrates
  ASSERT_NE(db_, nullptr);
  ASSERT_EQ(sqlite3_open(database_.c_str(), &raw), SQLITE_OK);
  EXPECT_EQ(one("SELECT MAX(version) FROM schema_version"), "7");
  EXPECT_EQ(one(has_index), "1");
  EXPECT_EQ(one("SELECT COUNT(*) FROM analyses WHERE claimed_by IS NOT NULL"),
            "10")
      << "the claims are kept";
  for (const char* sql :
       {sqlstore::kAnalysisClaimHolders, sqlstore::kFreeAnalysisClaims}) {
    SCOPED_TRACE(sql);
    std::string plan = SqlitePlan(raw, sql);
    EXPECT_NE(plan.find("USING INDEX analyses_by_claimer"), std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("SCAN f"), std::string::npos) << plan;
  }
  sqlite3_close(raw);
}

// The same on PostgreSQL: with sequential scans priced out (a test table
// is small enough that the planner would rather read it whole), every
// read of files in each per-batch query is an index scan, never a scan of
// the table. The parameters are given as the plugin gives them.
TEST_F(PostgresStorage, PerBatchQueriesUseAnIndex) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 300);
  const sqlstore::Queries q =
      sqlstore::BuildQueries(sqlstore::kPostgresDialect);
  for (std::string sql :
       {q.pick_for_claim, q.count_needing, q.count_in_progress, q.count_failed,
        q.list_pending, q.list_failures, q.list_claim_holders}) {
    SCOPED_TRACE(sql);
    for (auto [name, value] :
         {std::pair<std::string, std::string>{":lib", std::to_string(lib)},
          {":dk", "'full|'"},
          {":now", "1000"},
          {":w", "'w'"},
          {":n", "50"}})
      for (size_t at = sql.find(name); at != std::string::npos;
           at = sql.find(name, at + 1))
        sql.replace(at, name.size(), value);
    std::string plan =
        Psql(pg_db_, "SET enable_seqscan = off;\nEXPLAIN " + sql);
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
    size_t reads = 0;
    for (const char* how :
         {"Index Scan", "Index Only Scan", "Bitmap Index Scan"})
      for (size_t at = plan.find(how); at != std::string::npos;
           at = plan.find(how, at + 1))
        ++reads;
    EXPECT_GE(reads, 4u) << plan;
  }
}

// Schema 7 on the server: a version-6 database gets the index of claimed
// analyses on open, and freeing a dead analyser's claims reads it.
TEST_F(PostgresStorage, AVersion6DatabaseFindsAnalysisClaimsFromAnIndex) {
  db_.reset();
  Psql(pg_db_,
       "DROP INDEX analyses_by_claimer;\n"
       "DELETE FROM schema_version WHERE version > 6");
  db_ = Open();  // migrates
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(Psql(pg_db_, "SELECT MAX(version) FROM schema_version"), "7\n");
  std::string sql = sqlstore::kFreeAnalysisClaims;
  sql.replace(sql.find(":w"), 2, "'w'");
  sql.replace(sql.find(":pid"), 4, "'p'");
  std::string plan = Psql(pg_db_, "SET enable_seqscan = off;\nEXPLAIN " + sql);
  EXPECT_NE(plan.find("analyses_by_claimer"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
}

// A copy into the server leaves the planner its statistics: every copied
// table analysed (row estimates, column statistics), not believed empty
// until autovacuum comes by.
TEST_F(PostgresStorage, ACopyIsAnalysed) {
  OpenOptions create;
  create.access = OpenOptions::Access::kCreate;
  auto source = StorageDatabase::Open(Plugin("sqlite"),
                                      (dir_ / "source.db").string(), create);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  Library music;
  music.name = "music";
  music.root = "/music";
  auto lib = (*source)->AddLibrary(music);
  ASSERT_TRUE(lib.ok());
  ASSERT_TRUE((*source)->Begin().ok());
  for (int i = 0; i < 300; ++i) {
    StoredFile f;
    f.path = "f" + std::to_string(i) + ".flac";
    ASSERT_TRUE((*source)->RecordFile(*lib, f, "").ok());
    ASSERT_TRUE((*source)->ReplaceTags(*lib, f.path, {{"bpm", {"1"}}}).ok());
  }
  ASSERT_TRUE((*source)->Commit().ok());
  std::vector<std::pair<std::string, int64_t>> counts;
  Status s = (*source)->CopyInto(*db_, nullptr, &counts);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Psql(pg_db_,
                 "SELECT relname || ' ' || reltuples::bigint FROM pg_class "
                 "WHERE relname IN ('libraries', 'files', 'tags') ORDER BY 1"),
            "files 300\nlibraries 1\ntags 300\n");
  EXPECT_EQ(Psql(pg_db_,
                 "SELECT string_agg(DISTINCT tablename::text, ' ') FROM "
                 "pg_stats WHERE schemaname = current_schema() AND "
                 "tablename IN ('libraries', 'files', 'tags')"),
            "files libraries tags\n");
}

// Another program's database on the server is refused, whatever the
// access asked for, and keeps its rows.
TEST_F(PostgresStorage, AnotherProgramsDatabaseIsRefusedAndLeftAsItWas) {
  db_.reset();
  const std::string theirs = pg_db_ + "_theirs";
  Psql("nomtag", "CREATE DATABASE " + theirs);
  Psql(theirs,
       "CREATE TABLE files (name TEXT);\nCREATE TABLE schema_version (v "
       "INTEGER);\nINSERT INTO files VALUES ('keep me')");
  std::string url = database_;
  url.replace(url.find(pg_db_), pg_db_.size(), theirs);
  for (auto access : {OpenOptions::Access::kRead, OpenOptions::Access::kWrite,
                      OpenOptions::Access::kCreate}) {
    OpenOptions options;
    options.access = access;
    auto db = StorageDatabase::Open(plugin(), url, options);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), Status::Code::kRefused);
    EXPECT_NE(db.status().message().find("not a nomtag database"),
              std::string::npos)
        << db.status().ToString();
    EXPECT_NE(db.status().message().find("files"), std::string::npos);
  }
  EXPECT_EQ(Psql(theirs, "SELECT name FROM files"), "keep me\n");
  EXPECT_EQ(Psql(theirs,
                 "SELECT COUNT(*) FROM information_schema.tables "
                 "WHERE table_schema = 'public'"),
            "2\n");
  Psql("nomtag", "DROP DATABASE " + theirs + " WITH (FORCE)");
}

// An empty database becomes nomtag's only through a creating command; a
// URL whose server cannot be reached is a clear error, without the
// password.
TEST_F(PostgresStorage, OnlyACreatingCommandMakesAnEmptyDatabaseNomtags) {
  db_.reset();
  Psql("nomtag", "CREATE DATABASE " + pg_db_ + "_empty");
  std::string url = database_;
  url.replace(url.find(pg_db_), pg_db_.size(), pg_db_ + "_empty");
  for (auto access :
       {OpenOptions::Access::kRead, OpenOptions::Access::kWrite}) {
    OpenOptions options;
    options.access = access;
    auto db = StorageDatabase::Open(plugin(), url, options);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), Status::Code::kNotFound);
    EXPECT_NE(db.status().message().find("empty database"), std::string::npos)
        << db.status().ToString();
  }
  EXPECT_EQ(Psql(pg_db_ + "_empty",
                 "SELECT COUNT(*) FROM information_schema.tables WHERE "
                 "table_schema = 'public'"),
            "0\n");
  OpenOptions create;
  create.access = OpenOptions::Access::kCreate;
  auto db = StorageDatabase::Open(plugin(), url, create);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db->reset();
  Psql("nomtag", "DROP DATABASE " + pg_db_ + "_empty WITH (FORCE)");

  auto gone = StorageDatabase::Open(
      plugin(), "postgresql://u:s3cret@/x?host=" + dir_.string() + "/none");
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("cannot connect"), std::string::npos)
      << gone.status().ToString();
  EXPECT_EQ(gone.status().message().find("s3cret"), std::string::npos)
      << gone.status().ToString();
}

}  // namespace
}  // namespace nomtag
