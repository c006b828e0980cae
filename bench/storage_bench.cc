// storage_bench: the database side of issue 4's benchmarks, on a real
// SQLite database through the storage plugin (as the host loads it).
//
//   1. In-sync reconcile: a library of --files files (default 100,000),
//      all recorded as written. Times the core's Reconcile in process (with
//      a projector that counts the files it is asked to open: must be 0)
//      and, with --nomtag, the whole `nomtag reconcile` command.
//   2. Claim latency at --claim-rows rows (default 1,000,000): median and
//      p90 of ClaimBatch(100) while every row is pending, while 1% is
//      pending among rows in sync, and after a mode change re-marks all.
//   3. Contention: --procs processes (default 4) claiming and recording
//      batches of 100 from --contention-rows rows (default 200,000) at
//      once: claim latency with lock waits, and no file claimed twice.
//
// Baselines from the same run, on the same database file, through SQLite
// directly: a naive walk of every file row of the library (what a
// reconcile that looked at each file would pay at least), the plain
// SELECT of 100 ids a claim cannot beat, and a claim-sized commit (100 rows
// updated) with synchronous=NORMAL, as the plugin runs, and FULL beside it.
//
// With --postgresql URL (issue 23) every part runs again on PostgreSQL, in
// fresh databases made on that server, and each PostgreSQL figure is printed
// beside the SQLite figure of the same run as a ratio. Its databases are
// filled through the bulk path: the same rows are made in SQLite first,
// then moved with `db copy`'s row export and import (timed and printed).
//
// Every figure is checked against the state it claims to measure
// (CountPending before and after), so a broken query cannot report a
// fast but wrong number. Usage:
//   storage_bench --plugin-dir DIR [--dir TMP] [--files N]
//                 [--claim-rows M] [--contention-rows R] [--procs P]
//                 [--nomtag BIN --config plugins.yaml]
//                 [--postgresql URL]
// A size of 0 skips that part.
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/reconciler.h"
#include "store/storage_choice.h"
#include "store/storage_database.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "storage_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T Check(Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(*r);
}
void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(std::string(what) + ": " + s.ToString());
}

// Counts what reconciliation asks of files; an in-sync run must ask nothing.
class CountingProjector : public FileProjector {
 public:
  Status Project(const Library&, const std::string&, const TagSet&, CommitGate&,
                 Projection* out) override {
    ++projected;
    out->written = true;
    return Status::OK();
  }
  Result<TagSet> Read(const std::string&) override {
    ++read;
    return TagSet{};
  }
  int projected = 0, read = 0;
};

struct Args {
  std::string plugin_dir, dir = "/tmp/nomtag-storage-bench", nomtag, config;
  std::string postgresql;  // a server's URL: run every part there too
  int64_t files = 100000, claim_rows = 1000000, contention_rows = 200000;
  int procs = 4;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Die("missing value after " + k);
    std::string v = argv[++i];
    if (k == "--plugin-dir")
      a.plugin_dir = v;
    else if (k == "--dir")
      a.dir = v;
    else if (k == "--files")
      a.files = std::stoll(v);
    else if (k == "--claim-rows")
      a.claim_rows = std::stoll(v);
    else if (k == "--contention-rows")
      a.contention_rows = std::stoll(v);
    else if (k == "--procs")
      a.procs = std::stoi(v);
    else if (k == "--nomtag")
      a.nomtag = v;
    else if (k == "--config")
      a.config = v;
    else if (k == "--postgresql")
      a.postgresql = v;
    else
      Die("unknown option " + k);
  }
  if (a.plugin_dir.empty()) Die("--plugin-dir is required");
  return a;
}

// The backend the parts run on now: "sqlite", then "postgresql".
std::string g_backend = "sqlite";
// Medians of the SQLite run by label, for the PostgreSQL run's ratios.
std::map<std::string, double> g_sqlite_median;
// The part running now ("1", "2", "3"): labels repeat across parts.
std::string g_part;

// The storage plugin serving database (a file path or a URL).
const StoragePluginRef& Storage(const Args& args, const std::string& database) {
  static PluginRegistry* reg = [&] {
    auto* r = new PluginRegistry;
    PluginConfig config;
    config.plugins.push_back({"storage-sqlite", "", "", 0, {}, "", ""});
    config.plugins.push_back({"storage-postgresql", "", "", 0, {}, "", ""});
    r->LoadAll(config, {args.plugin_dir});
    return r;
  }();
  auto choice = ChooseStorage(reg->storages(), database);
  if (!choice.ok()) Die(choice.status().ToString());
  return *choice->plugin;
}

// psql-free administration of the bench's server databases: a fresh,
// empty database `name` (byte-for-byte text, as the user guide advises),
// and its URL.
std::string FreshPgDatabase(const Args& args, const std::string& name) {
  PGconn* c = PQconnectdb(args.postgresql.c_str());
  if (PQstatus(c) != CONNECTION_OK) Die(PQerrorMessage(c));
  for (std::string sql : {"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)",
                          "CREATE DATABASE " + name +
                              " ENCODING 'SQL_ASCII' TEMPLATE template0"}) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
      Die(sql + ": " + PQerrorMessage(c));
    PQclear(r);
  }
  PQfinish(c);
  // The URL's database part (after the host, before '?') replaced.
  const std::string& u = args.postgresql;
  size_t q = u.find('?');
  std::string head = u.substr(0, q),
              tail = q == std::string::npos ? "" : u.substr(q);
  size_t slash = head.find('/', head.find("://") + 3);
  return head.substr(0, slash) + "/" + name + tail;
}

struct Db {
  std::unique_ptr<StorageDatabase> db;
  int64_t lib = 0;
  std::string path;
  std::string worker;  // claims of an unregistered id count as a dead one's
};

// ANALYZE on the server database url (what autovacuum does on its own
// once enough rows changed).
void Analyze(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  PGresult* r = PQexec(c, "ANALYZE");
  if (PQresultStatus(r) != PGRES_COMMAND_OK) Die(PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
}

// On PostgreSQL, the SQLite database just populated moved into a fresh
// server database through the row export and import of `db copy`.
void MoveToPostgres(const Args& args, const std::string& name, Db& d) {
  std::string url = FreshPgDatabase(args, "bench_" + name);
  OpenOptions create;
  create.access = OpenOptions::Access::kCreate;
  auto pg = Check(StorageDatabase::Open(Storage(args, url), url, create),
                  "open the server database");
  auto t = Clock::now();
  std::vector<std::pair<std::string, int64_t>> counts;
  Check(d.db->CopyInto(*pg, {}, &counts), "copy to PostgreSQL");
  int64_t rows = 0;
  for (const auto& c : counts) rows += c.second;
  double s = MsSince(t) / 1000;
  std::printf(
      "  moved to PostgreSQL by db copy: %lld rows in %.1f s "
      "(%.0f rows/s)\n",
      static_cast<long long>(rows), s, rows / s);
  // Statistics for the planner, as autovacuum gathers them shortly after
  // a bulk load; the figures below are of a database in use, not of its
  // first minute.
  Analyze(url);
  d.db = std::move(pg);
  d.path = url;
  d.worker = Check(d.db->StartWorker(), "start worker");
}

// The pristine copy of part `name`'s SQLite database, kept for the
// PostgreSQL run so that it need not populate the same rows again.
std::string SeedPath(const Args& args, const std::string& name) {
  return (fs::path(args.dir) / (name + ".seed.db")).string();
}

// A fresh database with one library of n scanned files carrying tags.
Db Populate(const Args& args, const std::string& name, int64_t n) {
  Db d;
  if (g_backend == "postgresql" && fs::exists(SeedPath(args, name))) {
    d.path = SeedPath(args, name);
    d.db = Check(StorageDatabase::Open(Storage(args, d.path), d.path), "seed");
    d.lib = Check(d.db->FindLibrary(name), "seed library").id;
    MoveToPostgres(args, name, d);
    return d;
  }
  d.path = (fs::path(args.dir) / (name + ".db")).string();
  for (const char* ext : {"", "-wal", "-shm"}) fs::remove(d.path + ext);
  OpenOptions create;
  create.access = OpenOptions::Access::kCreate;
  d.db = Check(StorageDatabase::Open(Storage(args, d.path), d.path, create),
               "open");
  d.worker = Check(d.db->StartWorker(), "start worker");
  Library lib;
  lib.name = name;
  lib.root = (fs::path(args.dir) / (name + "-root")).string();
  fs::create_directories(lib.root);  // empty: opening a file would fail
  lib.mode = WriteMode::kFull;
  d.lib = Check(d.db->AddLibrary(lib), "add library");
  auto t = Clock::now();
  const int64_t chunk = 50000;
  for (int64_t i = 0; i < n; i += chunk) {
    Check(d.db->Begin(), "begin");
    for (int64_t j = i; j < std::min(n, i + chunk); ++j) {
      StoredFile f;
      char p[64];
      std::snprintf(p, sizeof p, "artist%03lld/album%02lld/track%07lld.flac",
                    static_cast<long long>(j % 997),
                    static_cast<long long>(j % 13), static_cast<long long>(j));
      f.path = p;
      f.size = 4000000 + j;
      f.mtime_ns = 1700000000000000000LL + j;
      f.format = "flac";
      Check(d.db->RecordFile(d.lib, f, ""), "record file");
      Check(d.db->ReplaceTags(d.lib, f.path,
                              {{"bpm", {std::to_string(80 + j % 90)}},
                               {"mood-strict", {"happy"}}}),
            "replace tags");
    }
    Check(d.db->Commit(), "commit");
  }
  std::printf("  populated %lld files with tags in %.1f s\n",
              static_cast<long long>(n), MsSince(t) / 1000);
  if (g_backend == "postgresql") {
    MoveToPostgres(args, name, d);
    return d;
  }
  // Keep the pristine rows for the PostgreSQL run (closed: one file).
  d.db.reset();
  fs::copy_file(d.path, SeedPath(args, name),
                fs::copy_options::overwrite_existing);
  d.db = Check(StorageDatabase::Open(Storage(args, d.path), d.path), "reopen");
  d.worker = Check(d.db->StartWorker(), "start worker");
  return d;
}

// Claims and records everything pending, as reconcile does; returns the
// claim latencies (ms) of every batch.
std::vector<double> WriteAll(Db& d, WriteMode mode, uint32_t batch,
                             int64_t max_batches = -1) {
  std::vector<double> lat;
  std::string cal = Check(d.db->CalibrationHash(), "calibration");
  while (max_batches < 0 || static_cast<int64_t>(lat.size()) < max_batches) {
    auto t = Clock::now();
    auto claimed =
        Check(d.db->ClaimBatch(d.lib, d.worker, batch, 600000), "claim batch");
    lat.push_back(MsSince(t));
    if (claimed.empty()) {
      lat.pop_back();
      break;
    }
    for (const auto& f : claimed)
      if (!Check(d.db->SetWritten(f, mode, cal, false, {}, {}, ""),
                 "set written"))
        Die("set written refused a live claim");
  }
  return lat;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// On PostgreSQL each figure also says how it compares with the SQLite
// figure of the same label measured earlier in this run.
void Report(const char* what, const std::vector<double>& lat) {
  const double median = Percentile(lat, 0.5);
  std::printf("  %-46s median %.3f ms  p90 %.3f ms  max %.3f ms  (%zu)", what,
              median, Percentile(lat, 0.9), Percentile(lat, 1.0), lat.size());
  if (g_backend == "sqlite") {
    g_sqlite_median[g_part + what] = median;
  } else if (auto it = g_sqlite_median.find(g_part + what);
             it != g_sqlite_median.end() && it->second > 0) {
    std::printf("  = %.2fx SQLite's %.3f ms", median / it->second, it->second);
  }
  std::printf("\n");
}

int64_t Pending(Db& d) { return Check(d.db->CountPending(d.lib), "count"); }

// Runs argv, returns the wall time in ms; dies on a non-zero exit.
double TimeCommand(const std::vector<std::string>& argv) {
  std::fflush(stdout);  // or the child's freopen flushes our buffer twice
  auto t = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout)) _exit(126);
    ::execv(a[0], a.data());
    _exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  double ms = MsSince(t);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    Die("command failed: " + argv[0]);
  return ms;
}

// The same database file opened by SQLite directly, for the baselines.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
      Die("sqlite3_open " + path);
    sqlite3_busy_timeout(db_, 30000);
  }
  ~RawDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : "?";
      sqlite3_free(err);
      Die(sql + ": " + why);
    }
  }
  // Steps sql to the end; returns the rows it gave.
  int64_t Rows(const std::string& sql, int64_t bind = 0) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      Die(sql + ": " + sqlite3_errmsg(db_));
    if (sqlite3_bind_parameter_count(st) > 0) sqlite3_bind_int64(st, 1, bind);
    int64_t rows = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) ++rows;
    if (rc != SQLITE_DONE) Die(sql + ": " + sqlite3_errmsg(db_));
    sqlite3_finalize(st);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Baseline: every file row of the library read once (id, path, size,
// mtime), the least a reconcile that looked at each file would do.
void ReportNaiveWalk(const Db& d, int64_t want) {
  RawDb raw(d.path);
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i) {
    auto t = Clock::now();
    int64_t rows = raw.Rows(
        "SELECT id, path, size, mtime_ns FROM files WHERE library_id = ?",
        d.lib);
    runs.push_back(MsSince(t));
    if (rows != want) Die("the naive walk did not see every row");
  }
  Report("baseline: naive walk of every file row:", runs);
}

// Baselines for a claim: the plain SELECT of 100 ids, and a commit that
// updates 100 rows, at synchronous=NORMAL (the plugin's setting) and FULL.
void ReportClaimBaselines(const Db& d, int64_t rows_in_library) {
  const int rounds =
      static_cast<int>(std::min<int64_t>(200, rows_in_library / 100 - 1));
  RawDb raw(d.path);
  raw.Exec("PRAGMA journal_mode=WAL");
  std::vector<double> select;
  for (int i = 0; i < rounds; ++i) {
    auto t = Clock::now();
    int64_t rows =
        raw.Rows("SELECT id FROM files WHERE library_id = ? AND id > " +
                     std::to_string(i * 100) + " ORDER BY id LIMIT 100",
                 d.lib);
    select.push_back(MsSince(t));
    if (rows != 100) Die("the baseline select found too few rows");
  }
  Report("baseline: SELECT 100 ids, no write:", select);
  for (const char* sync : {"NORMAL", "FULL"}) {
    raw.Exec(std::string("PRAGMA synchronous=") + sync);
    std::vector<double> commits;
    for (int i = 0; i < std::min(rounds, 100); ++i) {  // rows kept as they were
      auto t = Clock::now();
      raw.Exec("BEGIN IMMEDIATE");
      raw.Exec(
          "UPDATE files SET size = size + 0 WHERE id IN (SELECT id FROM "
          "files WHERE library_id = " +
          std::to_string(d.lib) + " AND id > " + std::to_string(i * 100) +
          " ORDER BY id LIMIT 100)");
      raw.Exec("COMMIT");
      commits.push_back(MsSince(t));
    }
    std::string what =
        std::string("baseline: commit of 100 updated rows, ") + sync + ":";
    Report(what.c_str(), commits);
  }
}

// Times the core's Reconcile over a library that is all in sync; dies if
// it did any work or asked for any file.
void ReportInSyncReconcile(Db& d, const std::string& name) {
  Library lib = Check(d.db->FindLibrary(name), "find library");
  std::vector<double> runs;
  for (int i = 0; i < 5; ++i) {
    CountingProjector projector;
    ReconcileOptions options;
    options.batch = 100;
    auto t0 = Clock::now();
    ReconcileReport r =
        Check(Reconcile(*d.db, projector, lib, options), "reconcile");
    runs.push_back(MsSince(t0));
    if (r.processed != 0 || r.failed != 0 || r.remaining != 0 ||
        projector.projected != 0 || projector.read != 0)
      Die("an in-sync reconcile did work or opened a file");
  }
  Report("Reconcile() in process, 0 files opened:", runs);
}

void InSyncReconcile(const Args& args) {
  g_part = "1";
  std::printf("\n[1] reconcile of %lld files already in sync\n",
              static_cast<long long>(args.files));
  Db d = Populate(args, "insync", args.files);
  auto t = Clock::now();
  WriteAll(d, WriteMode::kFull, 1000);
  std::printf("  recorded all as written in %.1f s\n", MsSince(t) / 1000);
  if (Pending(d) != 0) Die("files still pending after writing all");

  ReportInSyncReconcile(d, "insync");
  if (g_backend == "sqlite") ReportNaiveWalk(d, args.files);
  if (g_backend == "postgresql") {
    // Every row changed since the last statistics: once autovacuum (or
    // this) has looked again, the planner knows no file is pending.
    Analyze(d.path);
    std::printf("  after ANALYZE:\n");
    ReportInSyncReconcile(d, "insync");
  }

  if (!args.nomtag.empty()) {
    d.db.reset();  // the command opens the database itself
    std::vector<double> cmd;
    for (int i = 0; i < 5; ++i)
      cmd.push_back(TimeCommand({args.nomtag, "--config", args.config,
                                 "--plugin-dir", args.plugin_dir, "--db",
                                 d.path, "reconcile", "insync", "--json"}));
    Report("`nomtag reconcile` command, wall time:", cmd);
  }
}

void ClaimLatency(const Args& args) {
  g_part = "2";
  std::printf("\n[2] claim latency, batches of 100, %lld file rows\n",
              static_cast<long long>(args.claim_rows));
  Db d = Populate(args, "claims", args.claim_rows);
  int64_t rows = args.claim_rows;

  auto t = Clock::now();
  int64_t before = Pending(d);
  std::printf("  count pending (all %lld): %.1f ms\n",
              static_cast<long long>(before), MsSince(t));
  if (before != rows) Die("not every row is pending after the scan");
  if (g_backend == "sqlite") ReportClaimBaselines(d, rows);
  if (Pending(d) != rows) Die("a baseline changed what is pending");
  Report("all rows pending (claim + record, 500 batches):",
         WriteAll(d, WriteMode::kFull, 100, 500));
  if (Pending(d) != std::max<int64_t>(0, rows - 500 * 100))
    Die("the claimed batches were not all recorded");

  t = Clock::now();
  WriteAll(d, WriteMode::kFull, 1000);
  std::printf("  recorded the rest as written in %.1f s\n", MsSince(t) / 1000);
  t = Clock::now();
  if (Pending(d) != 0) Die("rows still pending");
  std::printf("  count pending (none of %lld): %.3f ms\n",
              static_cast<long long>(rows), MsSince(t));

  // 1% of the rows get new tags (a new analysis).
  Check(d.db->Begin(), "begin");
  int64_t dirty = 0;
  for (int64_t j = 0; j < rows; j += 100, ++dirty) {
    char p[64];
    std::snprintf(p, sizeof p, "artist%03lld/album%02lld/track%07lld.flac",
                  static_cast<long long>(j % 997),
                  static_cast<long long>(j % 13), static_cast<long long>(j));
    Check(d.db->ReplaceTags(d.lib, p, {{"bpm", {"200"}}}), "retag");
  }
  Check(d.db->Commit(), "commit");
  if (Pending(d) != dirty) Die("retagged rows are not exactly the pending");
  Report("1% pending (new tags) among rows in sync:",
         WriteAll(d, WriteMode::kFull, 100));
  if (Pending(d) != 0) Die("retagged rows left pending");
  ReportInSyncReconcile(d, "claims");

  // A mode change re-marks every row; claim from that range.
  Library lib = Check(d.db->FindLibrary("claims"), "find library");
  lib.mode = WriteMode::kNone;
  t = Clock::now();
  int64_t affected = Check(d.db->UpdateLibrary(lib), "set mode");
  std::printf("  set-mode none, affected count %lld: %.1f ms\n",
              static_cast<long long>(affected), MsSince(t));
  if (affected != rows) Die("mode change did not affect every row");
  Report("all pending after a mode change (500 batches):",
         WriteAll(d, WriteMode::kNone, 100, 500));
}

// Where claiming process p writes what it claimed (d.path may be a URL).
std::string ProcOutput(const Args& args, int p) {
  return (fs::path(args.dir) / ("contention.proc" + std::to_string(p)))
      .string();
}

// Several OS processes claiming from one library at once, as several
// `nomtag reconcile` runs would: claim latency including waits for the
// write lock, and a check that no file was claimed twice.
void Contention(const Args& args) {
  g_part = "3";
  std::printf("\n[3] %d processes claiming batches of 100 from %lld rows\n",
              args.procs, static_cast<long long>(args.contention_rows));
  Db d = Populate(args, "contention", args.contention_rows);
  d.db.reset();
  std::fflush(stdout);
  std::vector<pid_t> kids;
  auto t = Clock::now();
  for (int p = 0; p < args.procs; ++p) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto db =
          Check(StorageDatabase::Open(Storage(args, d.path), d.path), "open");
      std::string me = Check(db->StartWorker(), "start worker"), cal;
      cal = Check(db->CalibrationHash(), "calibration");
      FILE* out = std::fopen(ProcOutput(args, p).c_str(), "w");
      if (!out) Die("cannot write " + ProcOutput(args, p));
      for (;;) {
        auto t0 = Clock::now();
        auto batch = Check(db->ClaimBatch(d.lib, me, 100, 600000), "claim");
        double ms = MsSince(t0);
        if (batch.empty()) break;
        std::fprintf(out, "L %.4f\n", ms);
        for (const auto& f : batch) {
          if (!Check(
                  db->SetWritten(f, WriteMode::kFull, cal, false, {}, {}, ""),
                  "set"))
            Die("a live claim was refused");
          std::fprintf(out, "F %lld\n", static_cast<long long>(f.id));
        }
      }
      std::fclose(out);
      std::fflush(stdout);
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ::waitpid(k, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      Die("a claiming process failed (" +
          (WIFSIGNALED(status)
               ? "signal " + std::to_string(WTERMSIG(status))
               : "exit " + std::to_string(WEXITSTATUS(status))) +
          ")");
  }
  double total_ms = MsSince(t);
  std::vector<double> lat;
  // Ids are the SQLite seed's, kept by the copy.
  std::vector<char> seen(args.contention_rows + 2, 0);
  int64_t claimed = 0;
  for (int p = 0; p < args.procs; ++p) {
    std::string f = ProcOutput(args, p);
    FILE* in = std::fopen(f.c_str(), "r");
    if (!in) Die("no output from process " + std::to_string(p));
    char kind;
    double v;
    while (std::fscanf(in, " %c %lf", &kind, &v) == 2) {
      if (kind == 'L') {
        lat.push_back(v);
        continue;
      }
      auto id = static_cast<int64_t>(v);
      if (id < 0 || id >= static_cast<int64_t>(seen.size()) || seen[id]++)
        Die("file " + std::to_string(id) + " was claimed twice");
      ++claimed;
    }
    std::fclose(in);
    fs::remove(f);
  }
  if (claimed != args.contention_rows)
    Die("claimed " + std::to_string(claimed) + " of " +
        std::to_string(args.contention_rows));
  Report("claim under contention (lock waits included):", lat);
  std::printf("  all %lld rows claimed once and recorded in %.1f s\n",
              static_cast<long long>(claimed), total_ms / 1000);
  auto db = Check(StorageDatabase::Open(Storage(args, d.path), d.path), "open");
  if (Check(db->CountPending(d.lib), "count") != 0) Die("rows left pending");
}

}  // namespace
}  // namespace nomtag

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // figures as they come
  nomtag::Args args = nomtag::Parse(argc, argv);
  std::filesystem::create_directories(args.dir);
  std::vector<std::string> backends = {"sqlite"};
  if (!args.postgresql.empty()) backends.push_back("postgresql");
  for (const auto& b : backends) {
    nomtag::g_backend = b;
    std::printf("\n===== %s =====\n", b.c_str());
    if (args.files > 0) nomtag::InSyncReconcile(args);
    if (args.claim_rows > 0) nomtag::ClaimLatency(args);
    if (args.contention_rows > 0 && args.procs > 0) nomtag::Contention(args);
  }
  return 0;
}
