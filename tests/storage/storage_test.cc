// The SQLite storage plugin through the host's StorageDatabase, on a real
// database file: libraries, the derived "needs reconciliation", fenced
// claims, and that the per-batch queries are answered from indexes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

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
    r->LoadAll(config, {NOMTAG_TEST_PLUGIN_DIR});
    return r;
  }();
  return *reg;
}

class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nomtag-storage-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_EQ(Registry().storages().size(), 1u);
    db_ = Open();
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<StorageDatabase> Open(
      OpenOptions::Access access = OpenOptions::Access::kCreate) {
    OpenOptions options;
    options.access = access;
    auto db = StorageDatabase::Open(Registry().storages()[0],
                                    (dir_ / "nomtag.db").string(), options);
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
        auto r = db_->SetWritten(f, mode, *cal, true, {}, "");
        EXPECT_TRUE(r.ok() && *r);
        ++n;
      }
    }
  }
  int64_t Pending(int64_t lib) { return *db_->CountPending(lib); }

  fs::path dir_;
  std::unique_ptr<StorageDatabase> db_;
};

TEST_F(StorageTest, LibrariesAreFoundByNameOrIdAndNamesAreUnique) {
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

TEST_F(StorageTest, LibraryOptionsAreKept) {
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
  ASSERT_EQ(sqlite3_open((dir_ / "nomtag.db").c_str(), &raw), SQLITE_OK);
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
    auto db = StorageDatabase::Open(Registry().storages()[0], theirs.string(),
                                    options);
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
    auto db = StorageDatabase::Open(Registry().storages()[0], missing.string(),
                                    options);
    ASSERT_FALSE(db.ok());
    EXPECT_EQ(db.status().code(), Status::Code::kNotFound);
    EXPECT_NE(db.status().message().find("does not exist"), std::string::npos)
        << db.status().ToString();
  }
  EXPECT_FALSE(fs::exists(dir_ / "no")) << "no folder made by a reader";
  OpenOptions create;
  create.access = OpenOptions::Access::kCreate;
  auto db =
      StorageDatabase::Open(Registry().storages()[0], missing.string(), create);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE(fs::exists(missing));
}

// A database nomtag made is read without being written: no WAL switch, no
// migration, the file byte-identical.
TEST_F(StorageTest, ReadingChangesNothing) {
  AddLibrary("music", WriteMode::kFull);
  db_.reset();
  const std::string before = Bytes(dir_ / "nomtag.db");
  db_ = Open(OpenOptions::Access::kRead);
  ASSERT_NE(db_, nullptr);
  EXPECT_EQ(db_->Libraries()->size(), 1u);
  EXPECT_FALSE(db_->StartWorker().ok()) << "a reader claims nothing";
  db_.reset();
  EXPECT_EQ(Bytes(dir_ / "nomtag.db"), before);
}

TEST_F(StorageTest, ScannedFilesArePendingUntilWrittenOnce) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 20);
  EXPECT_EQ(Pending(lib), 20);
  EXPECT_EQ(WriteAll(lib, WriteMode::kFull), 20);
  EXPECT_EQ(Pending(lib), 0);
  EXPECT_EQ(WriteAll(lib, WriteMode::kFull), 0) << "nothing left to claim";
}

TEST_F(StorageTest, ChangedTagsArePendingAndIdenticalReimportIsNot) {
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

TEST_F(StorageTest, ModeChangeReportsAffectedFiles) {
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

TEST_F(StorageTest, CalibrationChangeMarksExactlyTheFilesWhoseModeWritesTiers) {
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

TEST_F(StorageTest, MissingFilesAreKeptWithTheirTagsButNotPending) {
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
    EXPECT_EQ(sqlite3_open((dir_ / "nomtag.db").c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sqlite::kCountNeeding, -1, &st, nullptr),
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
    ASSERT_TRUE(
        *db_->SetWritten((*batch)[i], WriteMode::kFull, *cal, true, {}, ""));
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
  ASSERT_EQ(sqlite3_open((dir_ / "nomtag.db").c_str(), &raw), SQLITE_OK);
  std::string explain =
      std::string("EXPLAIN QUERY PLAN ") + sqlite::kReadPendingCount;
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, explain.c_str(), -1, &st, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW)
    plan +=
        std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) +
        "\n";
  sqlite3_finalize(st);
  sqlite3_close(raw);
  EXPECT_EQ(plan, "SEARCH libraries USING INTEGER PRIMARY KEY (rowid=?)\n");
  EXPECT_EQ(Pending(lib), 300);
}

TEST_F(PendingCountTest, ADatabaseFromBeforeTheCountsGetsThem) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 6);
  auto batch = db_->ClaimBatch(lib, "w", 2, 60000);
  for (const auto& f : *batch)
    ASSERT_TRUE(*db_->SetWritten(f, WriteMode::kFull, "", true, {}, ""));
  db_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "nomtag.db").c_str(), &raw), SQLITE_OK);
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
                         "DELETE FROM schema_version WHERE version > 5",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(raw);
  sqlite3_close(raw);
  db_ = Open();
  ASSERT_NE(db_, nullptr);
  ExpectAgree(lib, 4, "migrated");
}

TEST_F(StorageTest, ClaimsAreExclusiveWhileTheLeaseLives) {
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
TEST_F(StorageTest, TheLeaseIsTheClaimersNotTheOnlookers) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 1);
  auto other = Open();
  std::string a = *db_->StartWorker(), b = *other->StartWorker();
  ASSERT_EQ(db_->ClaimBatch(lib, a, 1, 60000)->size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(other->ClaimBatch(lib, b, 1, 1)->empty())
      << "b's own short lease does not make a's claim expire";
}

TEST_F(StorageTest, ExpiredLeaseCannotOverwriteTheNewOwnersRecord) {
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
      other->SetWritten((*fast)[0], WriteMode::kFull, "", true, {}, "");
  ASSERT_TRUE(fast_done.ok());
  EXPECT_TRUE(*fast_done);
  EXPECT_EQ(Pending(lib), 0);
  auto slow_done =
      db_->SetWritten((*slow)[0], WriteMode::kNone, "", false, {}, "");
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
TEST_F(StorageTest, ASupersededRecordFencesOffTheCurrentOwner) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 1);
  auto other = Open();
  std::string a = *db_->StartWorker(), b = *other->StartWorker();
  auto slow = db_->ClaimBatch(lib, a, 1, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto fast = other->ClaimBatch(lib, b, 1, 60000);
  ASSERT_EQ(fast->size(), 1u);
  EXPECT_FALSE(
      *db_->SetWritten((*slow)[0], WriteMode::kFull, "", true, {}, ""));
  EXPECT_FALSE(
      *other->SetWritten((*fast)[0], WriteMode::kFull, "", true, {}, ""))
      << "which write landed last is unknown: nobody may call it in sync";
  EXPECT_EQ(Pending(lib), 1);
}

// Issue 16.15: a killed worker's claims are taken over at once, not when
// its lease runs out.
TEST_F(StorageTest, ADeadWorkersClaimsAreTakenOverAtOnce) {
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
  db_ = Open();
  EXPECT_EQ(db_->StatusOf(lib, 0)->in_progress, 3);
  auto holders = db_->ClaimHolders(lib);
  ASSERT_EQ(holders->size(), 1u);
  EXPECT_FALSE((*holders)[0].alive);
  std::string me = *db_->StartWorker();
  auto taken = db_->ClaimBatch(lib, me, 10, 60000);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(taken->size(), 3u);
  EXPECT_FALSE(fs::exists(dir_ / "nomtag.db-workers" / (*holders)[0].worker))
      << "the dead worker's file is gone";
}

// The same for analysis: liveness is the worker's lock, so a killed
// `analyze` leaves nothing for a rerun to wait on.
TEST_F(StorageTest, ADeadAnalysersClaimsAreTakenOverAtOnce) {
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

// Issue 17.10: a run never re-claims what it holds, even past its lease
// ("2 failed" for one file with --lease-ms 1).
TEST_F(StorageTest, AWorkerNeverReclaimsWhatItHolds) {
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

TEST_F(StorageTest, RenewedClaimsOutliveTheirFirstLease) {
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

TEST_F(StorageTest, ReleasedClaimKeepsTheFilePendingWithItsError) {
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
  ASSERT_EQ(sqlite3_open((dir_ / "nomtag.db").c_str(), &raw), SQLITE_OK);
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
  ASSERT_EQ(sqlite3_open((dir_ / "nomtag.db").c_str(), &raw), SQLITE_OK);
  sqlite3_exec(raw, "INSERT INTO schema_version VALUES (99)", nullptr, nullptr,
               nullptr);
  sqlite3_close(raw);
  auto db = StorageDatabase::Open(Registry().storages()[0],
                                  (dir_ / "nomtag.db").string());
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("newer"), std::string::npos);
}

// Each per-batch query must be answered from an index: no full scan of
// the files table to find the next batch.
TEST_F(StorageTest, PerBatchQueriesUseAnIndex) {
  int64_t lib = AddLibrary("music", WriteMode::kFull);
  AddFiles(lib, 300);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "nomtag.db").c_str(), &raw), SQLITE_OK);
  for (const char* sql :
       {sqlite::kPickForClaim, sqlite::kCountNeeding, sqlite::kCountInProgress,
        sqlite::kCountFailed, sqlite::kListPending, sqlite::kListFailures}) {
    SCOPED_TRACE(sql);
    sqlite3_stmt* st = nullptr;
    std::string explain = std::string("EXPLAIN QUERY PLAN ") + sql;
    ASSERT_EQ(sqlite3_prepare_v2(raw, explain.c_str(), -1, &st, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(raw);
    std::string plan;
    while (sqlite3_step(st) == SQLITE_ROW)
      plan += std::string(
                  reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) +
              "\n";
    sqlite3_finalize(st);
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

}  // namespace
}  // namespace nomtag
