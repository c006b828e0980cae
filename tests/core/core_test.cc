// The domain rules and the reconciler, in memory: a fake store and a fake
// projector stand in for the database and the files (Ninja-style), so the
// tests can count exactly what reconciliation opens and writes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/mode_inference.h"
#include "core/original_keys.h"
#include "core/parallel_for.h"
#include "core/reconciler.h"
#include "core/write_mode.h"

namespace nomtag {
namespace {

// --- parallel steps ------------------------------------------------------

TEST(ParallelForTest, EveryStepRunsOnceAcrossThreads) {
  std::vector<std::atomic<int>> runs(1000);
  std::mutex mu;
  std::set<std::thread::id> threads;
  size_t end = ParallelFor(
      0, runs.size(), 3,
      [&](size_t i) {
        ++runs[i];
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
      },
      [] { return true; });
  EXPECT_EQ(end, runs.size());
  for (auto& r : runs) EXPECT_EQ(r.load(), 1);
  EXPECT_LE(threads.size(), 3u);
}

TEST(ParallelForTest, StopsTakingStepsWhenToldAndSaysWhere) {
  // The byte budget of a group write: stop once 10 steps have run; steps
  // already taken finish, the rest are left for the next round.
  std::vector<std::atomic<int>> runs(100);
  std::atomic<int> done{0};
  size_t end = ParallelFor(
      5, runs.size(), 2,
      [&](size_t i) {
        ++runs[i];
        ++done;
      },
      [&] { return done.load() < 10; });
  EXPECT_GE(end, 15u);
  EXPECT_LE(end, 16u);  // at most threads - 1 more than the budget
  for (size_t i = 0; i < runs.size(); ++i)
    EXPECT_EQ(runs[i].load(), i >= 5 && i < end ? 1 : 0) << i;
}

TEST(ParallelForTest, CallsFromSeveralThreadsEachRunEveryStepOnce) {
  // Two reconcile workers prepare their groups at the same time, sharing
  // the helpers: each call runs its own steps, once each, and returns only
  // when they are done.
  constexpr size_t kCallers = 3, kCalls = 40, kSteps = 64;
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (size_t c = 0; c < kCallers; ++c)
    callers.emplace_back([&] {
      for (size_t call = 0; call < kCalls; ++call) {
        std::vector<std::atomic<int>> runs(kSteps);
        std::mutex mu;
        std::set<std::thread::id> threads;
        size_t end = ParallelFor(
            0, kSteps, 3,
            [&](size_t i) {
              ++runs[i];
              std::lock_guard<std::mutex> lock(mu);
              threads.insert(std::this_thread::get_id());
            },
            [] { return true; });
        bool ok = end == kSteps && threads.size() <= 3;
        for (auto& r : runs) ok = ok && r.load() == 1;
        if (!ok) ++wrong;
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ParallelForTest, HelpersAreKeptBetweenCalls) {
  // A thread per call and step group was ~700 thread starts for 3,000
  // files; the helpers now outlive the call.
  std::mutex mu;
  std::set<std::thread::id> threads;
  for (int call = 0; call < 50; ++call)
    ParallelFor(
        0, 32, 3,
        [&](size_t) {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
          std::lock_guard<std::mutex> lock(mu);
          threads.insert(std::this_thread::get_id());
        },
        [] { return true; });
  EXPECT_GE(threads.size(), 2u);  // helpers did take steps
  EXPECT_LE(threads.size(), 1 + 2 * (kMaxWorkThreads - 1));
}

TEST(ParallelForTest, WorkThreadsHonoursTheOverrideWithinBounds) {
  ::setenv("NOMTAG_WORK_THREADS", "1", 1);
  EXPECT_EQ(WorkThreads(), 1u);
  ::setenv("NOMTAG_WORK_THREADS", "99", 1);  // out of range: the default
  size_t fallback = WorkThreads();
  EXPECT_GE(fallback, 1u);
  EXPECT_LE(fallback, kMaxWorkThreads);
  ::unsetenv("NOMTAG_WORK_THREADS");
  EXPECT_EQ(WorkThreads(), fallback);
}

// --- write modes and desired sets ------------------------------------------

TEST(WriteModeTest, ParsesTheThreeModesAndNothingElse) {
  EXPECT_EQ(*ParseWriteMode("none"), WriteMode::kNone);
  EXPECT_EQ(*ParseWriteMode("minimal"), WriteMode::kMinimal);
  EXPECT_EQ(*ParseWriteMode("full"), WriteMode::kFull);
  auto bad = ParseWriteMode("Full");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("none, minimal or full"),
            std::string::npos);
}

TEST(WriteModeTest, DesiredTagsFollowModeAndCalibration) {
  TagSet db = {{"mood-strict", {"happy"}},
               {"mood-loose", {"happy", "calm"}},
               {"bpm", {"120"}}};
  EXPECT_TRUE(DesiredTags(db, WriteMode::kNone, true).empty());
  EXPECT_EQ(
      DesiredTags(db, WriteMode::kMinimal, true),
      (TagSet{{"mood-strict", {"happy"}}, {"mood-loose", {"happy", "calm"}}}));
  EXPECT_TRUE(DesiredTags(db, WriteMode::kMinimal, false).empty())
      << "tiers need calibration";
  EXPECT_EQ(DesiredTags(db, WriteMode::kFull, true), db);
  EXPECT_EQ(DesiredTags(db, WriteMode::kFull, false),
            (TagSet{{"bpm", {"120"}}}));
}

TEST(ModeInferenceTest, FollowsSpecSection6) {
  EXPECT_EQ(InferWriteMode({}), "");
  EXPECT_EQ(InferWriteMode({{"mood-strict", {"x"}}, {"mood-loose", {"y"}}}),
            "minimal");
  EXPECT_EQ(InferWriteMode({{"mood-strict", {"x"}}, {"bpm", {"1"}}}), "full");
  EXPECT_EQ(InferWriteMode({{"bpm", {"1"}}, {"Bad Key", {"1"}}}), "unknown");
  // The original system's score keys (labels with spaces) are ours.
  EXPECT_EQ(
      InferWriteMode({{"not happy_musicnn_mood_happy-msd-musicnn-1", {"0.5"}}}),
      "full");
  EXPECT_EQ(InferWriteMode({{"mood-strict", {"happy"}},
                            {"not happy_musicnn_x", {"0.5"}},
                            {"Bad Key", {"1"}}}),
            "unknown");
}

TEST(OriginalKeysTest, TheOriginalsScoreKeysMapToNomtagsKeys) {
  EXPECT_EQ(OriginalScoreKey("not happy_musicnn_mood_happy-msd-musicnn-1"),
            "not-happy_musicnn_mood_happy-msd-musicnn-1");
  EXPECT_EQ(OriginalScoreKey("instrumental only_musicnn_voice"),
            "instrumental-only_musicnn_voice");
  EXPECT_EQ(OriginalScoreKey("happy_musicnn_m"), "happy_musicnn_m");
  // Not of the form: no label, no stem, no _musicnn_, or still invalid.
  EXPECT_EQ(OriginalScoreKey("_musicnn_m"), "");
  EXPECT_EQ(OriginalScoreKey("happy_musicnn_"), "");
  EXPECT_EQ(OriginalScoreKey("not happy"), "");
  EXPECT_EQ(OriginalScoreKey("Not Happy_musicnn_m"), "");
  EXPECT_EQ(OriginalScores({{"not happy_musicnn_m", {"0.5"}},
                            {"not-happy_musicnn_n", {"0.1"}},
                            {"not happy_musicnn_n", {"0.2"}},
                            {"bpm", {"1"}}}),
            (TagSet{{"not-happy_musicnn_m", {"0.5"}},
                    {"not-happy_musicnn_n", {"0.1"}}}));
}

TEST(TagSetTest, KeysAndNumbers) {
  EXPECT_TRUE(IsValidTagKey("mood-strict"));
  EXPECT_TRUE(IsValidTagKey("genre.model_v2"));
  EXPECT_FALSE(IsValidTagKey("Mood"));
  EXPECT_FALSE(IsValidTagKey("-x"));
  EXPECT_FALSE(IsValidTagKey(""));
  EXPECT_FALSE(IsValidTagKey(std::string(129, 'a')));
  EXPECT_EQ(FormatNumber(0.8125), "0.8125");
  EXPECT_EQ(FormatNumber(120), "120");
  EXPECT_EQ(FormatNumber(0.1), "0.1");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(std::stod(FormatNumber(1.0 / 3)), 1.0 / 3) << "round-trips";
}

TEST(DiffTagsTest, AddedChangedRemoved) {
  FileDiff d = DiffTags("a.flac", {{"x", {"1"}}, {"y", {"2"}}},
                        {{"y", {"3"}}, {"z", {"4"}}});
  EXPECT_EQ(d.added, std::vector<std::string>{"z"});
  EXPECT_EQ(d.changed, std::vector<std::string>{"y"});
  EXPECT_EQ(d.removed, std::vector<std::string>{"x"});
}

// --- the reconciler --------------------------------------------------------

// A store in memory with the same claim semantics as the real one.
class FakeStore : public TagStore {
 public:
  struct Row {
    std::string path;
    TagSet tags;
    int64_t tags_rev = 1, written_rev = 0, token = 0;
    bool claimed = false;
    std::string written_key, error;
  };
  std::map<int64_t, Row> rows;
  std::string calibration;
  WriteMode mode = WriteMode::kFull;
  std::set<int64_t> refuse_record;       // SetWritten answers "superseded"
  std::set<int64_t> take_over_at_check;  // another worker takes it first
  int checks = 0;
  std::mutex mu;

  std::string Want() {
    return mode == WriteMode::kNone
               ? "none|"
               : std::string(WriteModeName(mode)) + "|" + calibration;
  }
  bool Needs(const Row& r) {
    return r.written_key != Want() || r.tags_rev != r.written_rev;
  }

  Result<std::string> CalibrationHash() override { return calibration; }
  Result<std::string> StartWorker() override { return std::string("w1"); }
  Result<bool> CheckClaim(const ClaimedFile& f, int64_t) override {
    std::lock_guard<std::mutex> lock(mu);
    ++checks;
    if (take_over_at_check.count(f.id)) ++rows[f.id].token;  // lease lost
    return rows[f.id].token == f.claim_token;
  }
  Status RenewClaims(const std::string&, int64_t) override {
    return Status::OK();
  }
  Result<std::vector<ClaimHolder>> ClaimHolders(int64_t) override {
    return std::vector<ClaimHolder>{};
  }
  Result<std::vector<ClaimedFile>> ClaimBatch(int64_t, const std::string&,
                                              uint32_t batch,
                                              int64_t) override {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<ClaimedFile> out;
    for (auto& [id, r] : rows) {
      if (out.size() == batch) break;
      if (!Needs(r) || r.claimed) continue;
      r.claimed = true;
      out.push_back({id, r.path, ++r.token, r.tags_rev});
    }
    return out;
  }
  Result<std::vector<PendingFile>> ListPending(int64_t) override {
    std::vector<PendingFile> out;
    for (auto& [id, r] : rows)
      if (Needs(r)) out.push_back({id, r.path});
    return out;
  }
  Result<TagSet> FileTags(int64_t id) override { return rows[id].tags; }
  Result<bool> SetWritten(const ClaimedFile& f, WriteMode m,
                          const std::string& cal, bool, const FileStamp&,
                          const FileStamp&, const std::string&) override {
    std::lock_guard<std::mutex> lock(mu);
    Row& r = rows[f.id];
    if (r.token != f.claim_token || refuse_record.count(f.id)) return false;
    r.written_key = m == WriteMode::kNone
                        ? "none|"
                        : std::string(WriteModeName(m)) + "|" + cal;
    r.written_rev = f.tags_rev;
    r.claimed = false;
    r.error.clear();
    return true;
  }
  Status ReleaseClaim(const ClaimedFile& f, const std::string& e) override {
    std::lock_guard<std::mutex> lock(mu);
    Row& r = rows[f.id];
    if (r.token != f.claim_token) return Status::OK();
    r.claimed = false;
    r.error = e;
    return Status::OK();
  }
  Result<int64_t> CountPending(int64_t) override {
    std::lock_guard<std::mutex> lock(mu);
    int64_t n = 0;
    for (auto& [id, r] : rows) n += Needs(r);
    return n;
  }
};

// Files in memory; counts every open and write.
class FakeProjector : public FileProjector {
 public:
  std::map<std::string, TagSet> files;
  std::set<std::string> failing;
  std::map<std::string, int> projects, writes;
  int reads = 0;
  std::mutex mu;

  Status Project(const Library&, const std::string& path, const TagSet& desired,
                 CommitGate& gate, Projection* out) override {
    bool* written = &out->written;
    std::lock_guard<std::mutex> lock(mu);
    ++projects[path];
    if (failing.count(path)) return Status::IoError(path + ": disk on fire");
    *written = files[path] != desired;
    if (*written) {
      if (Status s = gate.MayCommit(); !s.ok()) {
        *written = false;
        return s;
      }
      files[path] = desired;
      ++writes[path];
    }
    return Status::OK();
  }
  Result<TagSet> Read(const std::string& path) override {
    ++reads;
    return files[path];
  }
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void AddFiles(int n) {
    for (int i = 0; i < n; ++i) {
      FakeStore::Row r;
      r.path = "album/" + std::to_string(i) + ".flac";
      r.tags = {{"mood-strict", {"happy"}}, {"bpm", {std::to_string(i)}}};
      store_.rows[i + 1] = r;
    }
  }
  ReconcileReport Run(ReconcileOptions options = {}) {
    library_.mode = store_.mode;
    auto r = Reconcile(store_, projector_, library_, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ReconcileReport{};
  }
  FakeStore store_;
  FakeProjector projector_;
  Library library_{1, "music", "/music", WriteMode::kFull, false, false, false};
};

TEST_F(ReconcilerTest, WritesEveryPendingFileThenFindsNothingToDo) {
  AddFiles(25);
  ReconcileOptions o;
  o.batch = 7;
  ReconcileReport first = Run(o);
  EXPECT_EQ(first.processed, 25);
  EXPECT_EQ(first.written, 25);
  EXPECT_EQ(first.remaining, 0);
  EXPECT_EQ(projector_.files["/music/album/3.flac"], (TagSet{{"bpm", {"3"}}}))
      << "no calibration: tiers are filtered out";

  projector_.projects.clear();
  ReconcileReport second = Run(o);
  EXPECT_EQ(second.processed, 0);
  EXPECT_TRUE(projector_.projects.empty()) << "no audio file is opened";
}

TEST_F(ReconcilerTest, CalibrationChangeRewritesFilesWhoseModeWritesTiers) {
  AddFiles(4);
  Run();
  store_.calibration = "cal-1";
  ReconcileReport r = Run();
  EXPECT_EQ(r.processed, 4);
  EXPECT_EQ(projector_.files["/music/album/0.flac"],
            (TagSet{{"mood-strict", {"happy"}}, {"bpm", {"0"}}}));
  store_.mode = WriteMode::kNone;
  Run();
  store_.calibration = "cal-2";
  projector_.projects.clear();
  EXPECT_EQ(Run().processed, 0) << "mode none writes no tiers";
  EXPECT_TRUE(projector_.projects.empty());
}

TEST_F(ReconcilerTest, AFailingFileNeverStopsTheRunNorLoopsIt) {
  AddFiles(10);
  projector_.failing.insert("/music/album/4.flac");
  ReconcileOptions o;
  o.batch = 3;
  ReconcileReport r = Run(o);
  EXPECT_EQ(r.processed, 9);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.remaining, 1);
  EXPECT_EQ(projector_.projects["/music/album/4.flac"], 1) << "tried once";
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].second.find("disk on fire"), std::string::npos);
  EXPECT_NE(store_.rows[5].error.find("disk on fire"), std::string::npos);
  EXPECT_FALSE(store_.rows[5].claimed) << "the claim is given back";
}

TEST_F(ReconcilerTest, AStaleWorkersRecordIsCountedAsSuperseded) {
  AddFiles(3);
  store_.refuse_record.insert(2);
  ReconcileReport r = Run();
  EXPECT_EQ(r.superseded, 1);
  EXPECT_EQ(r.processed, 2);
}

// Issue 16.3: the claim is asked for right before each commit; a worker
// whose file was taken over meanwhile writes nothing.
TEST_F(ReconcilerTest, AClaimLostBeforeTheCommitWritesNothing) {
  AddFiles(3);
  store_.take_over_at_check.insert(2);
  ReconcileReport r = Run();
  EXPECT_EQ(store_.checks, 3) << "one check per file written";
  EXPECT_EQ(projector_.writes.count("/music/album/1.flac"), 0u)
      << "the file lost at the check is not written";
  EXPECT_EQ(projector_.writes["/music/album/0.flac"], 1);
  EXPECT_EQ(r.superseded, 1);
  EXPECT_EQ(r.failed, 0) << "losing a claim is not a failure of the file";
  EXPECT_EQ(r.processed, 2);
}

TEST_F(ReconcilerTest, PathsLeavingTheRootAreNeverWritten) {
  AddFiles(2);
  store_.rows[1].path = "../../etc/passwd.flac";
  store_.rows[2].path = "/etc/shadow.flac";
  ReconcileReport r = Run();
  EXPECT_EQ(r.failed, 2);
  EXPECT_TRUE(projector_.projects.empty());
  EXPECT_NE(r.failures[0].second.find("leaves the library root"),
            std::string::npos);
}

TEST_F(ReconcilerTest, ParallelWorkersWriteEachFileExactlyOnce) {
  AddFiles(300);
  ReconcileOptions o;
  o.workers = 6;
  o.batch = 5;
  ReconcileReport r = Run(o);
  EXPECT_EQ(r.processed, 300);
  EXPECT_EQ(projector_.projects.size(), 300u);
  for (const auto& [path, n] : projector_.projects) EXPECT_EQ(n, 1) << path;
}

TEST_F(ReconcilerTest, DryRunReportsDifferencesAndWritesNothing) {
  AddFiles(2);
  projector_.files["/music/album/0.flac"] = {{"bpm", {"999"}}, {"old", {"x"}}};
  ReconcileOptions o;
  o.dry_run = true;
  ReconcileReport r = Run(o);
  EXPECT_TRUE(projector_.projects.empty());
  ASSERT_EQ(r.diffs.size(), 2u);
  EXPECT_EQ(r.diffs[0].changed, std::vector<std::string>{"bpm"});
  EXPECT_EQ(r.diffs[0].removed, std::vector<std::string>{"old"});
  EXPECT_EQ(r.diffs[1].added, std::vector<std::string>{"bpm"});
  EXPECT_EQ(*store_.CountPending(1), 2) << "still pending";
}

TEST_F(ReconcilerTest, BadOptionsAreRefused) {
  ReconcileOptions o;
  o.batch = 0;
  EXPECT_FALSE(Reconcile(store_, projector_, library_, o).ok());
  o.batch = 10;
  o.workers = 0;
  EXPECT_FALSE(Reconcile(store_, projector_, library_, o).ok());
  o.workers = 1;
  for (int64_t lease : {-5, 0, 1, 999}) {  // issue 17.10: -5 looped forever
    o.lease_ms = lease;
    auto r = Reconcile(store_, projector_, library_, o);
    EXPECT_FALSE(r.ok()) << lease;
  }
}

TEST_F(ReconcilerTest, AStopRequestEndsTheRunAndGivesTheClaimsBack) {
  AddFiles(10);
  ReconcileOptions o;
  o.batch = 4;
  int asked = 0;
  o.should_stop = [&] { return ++asked > 3; };  // three files, then stop
  ReconcileReport r = Run(o);
  EXPECT_EQ(r.processed, 3);
  EXPECT_EQ(r.remaining, 7) << "the rest stays pending";
  EXPECT_EQ(projector_.projects.size(), 3u);
  for (const auto& [id, row] : store_.rows)
    EXPECT_FALSE(row.claimed) << row.path << " still claimed after the stop";
  EXPECT_EQ(Run().processed, 7) << "a later run finishes the work";
}

}  // namespace
}  // namespace nomtag
