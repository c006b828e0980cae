// The write path against other programs and other writers (issue 16): a
// file renamed over or rewritten between the check and the write, two
// nomtag writers of one file, recovery next to a live writer, journals
// that outlive reboots, times before 1970, extended attributes, long
// names, disk errors while reading a journal or after the new version is
// durable, and symbolic links inside a library root.
//
// A "stopped process" is a forked writer told to SIGSTOP itself at a named
// point (NOMTAG_TEST_STOP_AT): it holds what it holds there (its locks,
// its journal) while the test plays the other program, then SIGCONT lets
// it finish.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "formats/media_fixtures.h"
#include "io/open_beneath.h"
#include "io/target_file.h"
#include "write/journal.h"
#include "write/recovery.h"
#include "write/safe_write.h"
#include "write/sidecar_names.h"
#include "write/write_test_support.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;
using testing::Format;
using testing::MediaFile;
using testing::ReadBytes;
using testing::Sidecars;
using testing::Tags;
using testing::WriteBytes;

// Exit codes of a forked writer.
constexpr int kWrote = 0, kConflict = 2, kOtherError = 1;

// A writer in a child process that stops itself at `point`.
class StoppedWriter {
 public:
  StoppedWriter(const char* point, const std::string& path, const TagSet& tags,
                WriteOptions options = {}) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("NOMTAG_TEST_STOP_AT", point, 1);
      auto r = SafeWriteNamespace(Format(path), path, tags, options);
      ::_exit(r.ok()                                         ? kWrote
              : r.status().code() == Status::Code::kConflict ? kConflict
                                                             : kOtherError);
    }
    int status = 0;
    ::waitpid(pid_, &status, WUNTRACED);
    stopped_ = WIFSTOPPED(status);
    if (!stopped_) exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~StoppedWriter() {
    if (stopped_) Finish();
  }
  bool stopped() const { return stopped_; }
  // Lets it go on; its exit code.
  int Finish() {
    if (!stopped_) return exit_;
    ::kill(pid_, SIGCONT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    stopped_ = false;
    exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_;
  }

 private:
  pid_t pid_ = -1;
  bool stopped_ = false;
  int exit_ = -1;
};

// Writes in a child that dies at the crash point; its exit code (86).
int WriteDyingAt(const char* point, const std::string& path, const TagSet& tags,
                 WriteOptions options = {}) {
  pid_t child = ::fork();
  if (child == 0) {
    ::setenv("NOMTAG_TEST_CRASH_AT", point, 1);
    auto r = SafeWriteNamespace(Format(path), path, tags, options);
    ::_exit(r.ok() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Rewrites a journal in place (same inode) after changing it, with a
// fresh checksum, as a journal from elsewhere would be.
void EditJournal(const std::string& path,
                 const std::function<void(std::string*)>& edit) {
  std::vector<uint8_t> raw = ReadBytes(path);
  std::string body(raw.begin(), raw.end() - SHA256_DIGEST_LENGTH);
  edit(&body);
  body += Sha256(body);
  int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, body.data(), body.size(), 0),
            static_cast<ssize_t>(body.size()));
  ASSERT_EQ(::ftruncate(fd, body.size()), 0);
  ::close(fd);
}
void Put64At(std::string* s, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) (*s)[at + i] = static_cast<char>(v >> (8 * i));
}
// Offsets in a journal: magic, then dev, ino, size, mtime, atime,
// new length, pid (8 bytes each), then the host's length and bytes.
constexpr size_t kDevAt = 8, kPidAt = 8 + 6 * 8, kHostAt = 8 + 7 * 8;

int64_t MtimeNs(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
}

void SetMtime(const std::string& path, time_t sec, long nsec) {
  struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, 0), 0) << strerror(errno);
}

class WriteSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / testing::TestFolderName("nomtag-safety");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* v :
         {"NOMTAG_TEST_FAIL_AT", "NOMTAG_TEST_CRASH_AT", "NOMTAG_TEST_STOP_AT",
          "NOMTAG_LOCK_WAIT_MS", "NOMTAG_TEST_NO_OPENAT2"})
      ::unsetenv(v);
  }
  void TearDown() override {
    ::unsetenv("NOMTAG_TEST_FAIL_AT");
    ::unsetenv("NOMTAG_LOCK_WAIT_MS");
    fs::remove_all(dir_);
  }
  std::string Copy(const std::string& kind, const std::string& name) {
    std::string path = (dir_ / (name + "." + kind)).string();
    fs::copy_file(MediaFile(kind), path);
    return path;
  }
  // A file whose next small change fits in place.
  std::string PreparedForInPlace(const std::string& name = "inplace") {
    std::string path = Copy("flac", name);
    auto r = SafeWriteNamespace(Format(path), path,
                                Tags({{"mood-strict", {"happy"}}}), {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return path;
  }
  // The file as another program rewrote it: the last byte (audio, not a
  // tag nomtag writes) changed, same size.
  static std::vector<uint8_t> TheirEdit(std::vector<uint8_t> bytes) {
    bytes.back() ^= 0x5a;
    return bytes;
  }
  static void WriteInPlace(const std::string& path,
                           const std::vector<uint8_t>& bytes) {
    int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
  fs::path dir_;
};

const TagSet kNext = Tags({{"mood-strict", {"happier"}}, {"extra", {"v"}}});

// --- 1. Every byte goes through the descriptor whose identity was checked

// A file renamed over the target after the identity check and before the
// first byte: the old code reopened the path and patched the newcomer
// (reporting "in place"); now the write goes through the checked
// descriptor, notices its file is no longer there, and writes nothing.
TEST_F(WriteSafetyTest, AFileRenamedOverTheTargetMidWriteIsNotPatched) {
  std::string path = PreparedForInPlace();
  StoppedWriter writer("after-journal", path, kNext);
  ASSERT_TRUE(writer.stopped());
  std::string theirs_tmp = (dir_ / "theirs.flac").string();
  WriteBytes(theirs_tmp, TheirEdit(ReadBytes(path)));
  const std::vector<uint8_t> theirs = ReadBytes(theirs_tmp);
  fs::rename(theirs_tmp, path);

  EXPECT_EQ(writer.Finish(), kConflict);
  EXPECT_EQ(ReadBytes(path), theirs) << "another program's file was written";
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- 2. The identity includes ctime ----------------------------------------

// A tagger rewrites the file at the same size and puts the mtime back
// (Picard's "preserve timestamps"): only ctime tells.
TEST_F(WriteSafetyTest, ASameSizeRewriteWithItsMtimeRestoredIsNoticed) {
  std::string path = PreparedForInPlace();
  StoppedWriter writer("before-commit", path, kNext);
  ASSERT_TRUE(writer.stopped()) << "the stop point was not reached";
  struct stat before;
  ASSERT_EQ(::stat(path.c_str(), &before), 0);
  const std::vector<uint8_t> theirs = TheirEdit(ReadBytes(path));
  WriteInPlace(path, theirs);
  SetMtime(path, before.st_mtim.tv_sec, before.st_mtim.tv_nsec);

  EXPECT_EQ(writer.Finish(), kConflict);
  EXPECT_EQ(ReadBytes(path), theirs);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- 10. Two nomtag writers of one file wait for each other ----------------

TEST_F(WriteSafetyTest, ASecondWriterWaitsForTheFirst) {
  std::string path = PreparedForInPlace();
  StoppedWriter writer("after-journal", path, kNext);
  ASSERT_TRUE(writer.stopped());
  const std::vector<uint8_t> during = ReadBytes(path);

  // A copy write used to ignore the journal and rename over the file
  // while the first writer was between its journal and its patch.
  ::setenv("NOMTAG_LOCK_WAIT_MS", "50", 1);
  WriteOptions copy;
  copy.copy_only = true;
  auto busy = SafeWriteNamespace(Format(path), path,
                                 Tags({{"mood-strict", {"sad"}}}), copy);
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), Status::Code::kConflict);
  EXPECT_NE(busy.status().message().find("another nomtag process"),
            std::string::npos)
      << busy.status().ToString();
  EXPECT_EQ(ReadBytes(path), during);

  // Given time, the second writer simply waits its turn.
  ::setenv("NOMTAG_LOCK_WAIT_MS", "60000", 1);
  Result<WriteResult> second = Status::Internal("not run");
  std::thread waiter([&] {
    second = SafeWriteNamespace(Format(path), path,
                                Tags({{"mood-strict", {"sad"}}}), copy);
  });
  EXPECT_EQ(writer.Finish(), kWrote);
  waiter.join();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags,
            Tags({{"mood-strict", {"sad"}}}));
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// Two names of one hard-linked file used to get two journals and two
// concurrent patches; the lock is on the file, so they wait.
TEST_F(WriteSafetyTest, TwoNamesOfOneHardLinkedFileWaitForEachOther) {
  std::string path = PreparedForInPlace();
  std::string other = (dir_ / "other-name.flac").string();
  fs::create_hard_link(path, other);
  StoppedWriter writer("after-journal", path, kNext);
  ASSERT_TRUE(writer.stopped());
  const std::vector<uint8_t> during = ReadBytes(path);
  ::setenv("NOMTAG_LOCK_WAIT_MS", "50", 1);
  auto busy = SafeWriteNamespace(Format(other), other,
                                 Tags({{"mood-strict", {"sad"}}}), {});
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.status().code(), Status::Code::kConflict);
  EXPECT_EQ(ReadBytes(path), during);
  EXPECT_FALSE(fs::exists(JournalPathFor(other)));
  EXPECT_EQ(writer.Finish(), kWrote);
  EXPECT_EQ(ReadFileTags(Format(other), other)->nom.tags, kNext);
}

// --- 4. Liveness is a lock -------------------------------------------------

// A live writer whose journal names another host (another container, an
// NFS client) used to be taken for dead and rolled back under its feet.
TEST_F(WriteSafetyTest, ALiveWriterOnAnotherHostIsLeftAlone) {
  std::string path = PreparedForInPlace();
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  StoppedWriter writer("after-journal", path, kNext);
  ASSERT_TRUE(writer.stopped());
  EditJournal(JournalPathFor(path), [](std::string* j) {
    uint64_t len = 0;
    for (int i = 7; i >= 0; --i)
      len = (len << 8) | static_cast<unsigned char>((*j)[kHostAt + i]);
    for (uint64_t i = 0; i < len; ++i) (*j)[kHostAt + 8 + i] = 'x';
  });
  RecoveryReport report;
  EXPECT_TRUE(RecoverTree(dir_.string(), &report).ok());
  EXPECT_EQ(report.rolled_back, 0);
  EXPECT_EQ(report.not_started, 0);
  EXPECT_GE(report.busy, 1);
  EXPECT_TRUE(fs::exists(JournalPathFor(path))) << "the live writer's journal";
  EXPECT_EQ(ReadBytes(path), old_bytes);
  EXPECT_EQ(writer.Finish(), kWrote);
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kNext);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// After a reboot the dead writer's pid belongs to someone else (here: 1,
// always alive): the old check kept the file half-written for good.
TEST_F(WriteSafetyTest, ADeadWritersReusedPidDoesNotKeepItsJournalAlive) {
  std::string path = PreparedForInPlace();
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  ASSERT_EQ(WriteDyingAt("between-range-writes", path, kNext), 86);
  ASSERT_NE(ReadBytes(path), old_bytes) << "half-written";
  EditJournal(JournalPathFor(path),
              [](std::string* j) { Put64At(j, kPidAt, 1); });
  RecoveryReport report;
  ASSERT_TRUE(RecoverFile(path, &report).ok()) << report.Summary();
  EXPECT_EQ(report.rolled_back, 1);
  EXPECT_EQ(ReadBytes(path), old_bytes);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// A temporary copy of a live writer stays; the writer finishes.
TEST_F(WriteSafetyTest, ALiveWritersTemporaryCopyIsLeftAlone) {
  std::string path = PreparedForInPlace();
  WriteOptions copy;
  copy.copy_only = true;
  StoppedWriter writer("after-temp-written", path, kNext, copy);
  ASSERT_TRUE(writer.stopped());
  RecoveryReport report;
  EXPECT_TRUE(RecoverTree(dir_.string(), &report).ok());
  EXPECT_EQ(report.temps_removed, 0);
  EXPECT_EQ(Sidecars(dir_.string()).size(), 1u);
  EXPECT_EQ(writer.Finish(), kWrote);
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kNext);
}

// A sidecar has a name a moment before its writer holds its lock, and
// every `nomtag reconcile` starts with a recovery of the whole library
// while other runs write. Those recoveries used to catch a sidecar in
// that moment (several reconciles at once under ASan: a worker exited 2).

// Found empty and unlocked, a new journal was taken for a torn one and
// removed; its writer then patched the file with its journal under no
// name, so a crash left a half-written file and nothing to roll it back.
TEST_F(WriteSafetyTest, AJournalRemovedBeforeItsLockIsMadeAgain) {
  std::string path = PreparedForInPlace();
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  ::setenv("NOMTAG_TEST_CRASH_AT", "between-range-writes", 1);
  StoppedWriter writer("journal-created", path, kNext);
  ::unsetenv("NOMTAG_TEST_CRASH_AT");
  ASSERT_TRUE(writer.stopped()) << "the stop point was not reached";
  RecoveryReport report;
  EXPECT_TRUE(RecoverTree(dir_.string(), &report).ok());
  EXPECT_EQ(report.torn_discarded, 1) << report.Summary();
  EXPECT_EQ(writer.Finish(), 86) << "it should die half-way";
  ASSERT_NE(ReadBytes(path), old_bytes) << "half-written";
  ASSERT_TRUE(fs::exists(JournalPathFor(path)))
      << "a half-written file with no journal";
  RecoveryReport after;
  ASSERT_TRUE(RecoverFile(path, &after).ok()) << after.Summary();
  EXPECT_EQ(after.rolled_back, 1);
  EXPECT_EQ(ReadBytes(path), old_bytes);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// A recovery holding the new journal's lock while it looks at it made
// the writer fail the file ("lock the new journal"); it waits instead.
TEST_F(WriteSafetyTest, AWriterWaitsForARecoveryLookingAtItsNewJournal) {
  std::string path = PreparedForInPlace();
  StoppedWriter writer("journal-created", path, kNext);
  ASSERT_TRUE(writer.stopped()) << "the stop point was not reached";
  // What recovery does with an unlocked empty journal, held half-way.
  const std::string journal = JournalPathFor(path);
  int fd = ::open(journal.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(LockWholeFile(fd, true, 0));
  std::thread recovery([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::unlink(journal.c_str());
    ::close(fd);
  });
  EXPECT_EQ(writer.Finish(), kWrote);
  recovery.join();
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kNext);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// An unlocked temporary copy is removed; its writer then renamed a name
// that was gone and failed the file. It makes its copy again.
TEST_F(WriteSafetyTest, ATemporaryCopyRemovedBeforeItsLockIsMadeAgain) {
  std::string path = PreparedForInPlace();
  WriteOptions copy;
  copy.copy_only = true;
  StoppedWriter writer("temp-created", path, kNext, copy);
  ASSERT_TRUE(writer.stopped()) << "the stop point was not reached";
  RecoveryReport report;
  EXPECT_TRUE(RecoverTree(dir_.string(), &report).ok());
  EXPECT_EQ(report.temps_removed, 1) << report.Summary();
  EXPECT_EQ(writer.Finish(), kWrote);
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kNext);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- 5. Journals are not tied to st_dev -------------------------------------

TEST_F(WriteSafetyTest, AJournalSurvivesADeviceNumberChange) {
  std::string path = PreparedForInPlace();
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  ASSERT_EQ(WriteDyingAt("between-range-writes", path, kNext), 86);
  // After a reboot a btrfs subvolume or an NFS mount has another st_dev.
  EditJournal(JournalPathFor(path),
              [](std::string* j) { Put64At(j, kDevAt, 0x12345678); });
  RecoveryReport report;
  ASSERT_TRUE(RecoverFile(path, &report).ok()) << report.Summary();
  EXPECT_EQ(report.rolled_back, 1);
  EXPECT_EQ(ReadBytes(path), old_bytes);
}

// `--keep-as-is` drops every kind of unresolved journal, here one whose
// file was replaced.
TEST_F(WriteSafetyTest, KeepAsIsDropsTheJournalOfAReplacedFile) {
  std::string path = PreparedForInPlace();
  ASSERT_EQ(WriteDyingAt("between-range-writes", path, kNext), 86);
  std::string replacement = (dir_ / "replacement.tmp").string();
  fs::copy_file(MediaFile("flac"), replacement);
  fs::rename(replacement, path);
  const std::vector<uint8_t> theirs = ReadBytes(path);
  RecoveryReport kept;
  EXPECT_FALSE(RecoverFile(path, &kept).ok());
  ASSERT_EQ(kept.kept_journals.size(), 1u);
  RecoveryOptions keep;
  keep.keep_as_is = true;
  RecoveryReport dropped;
  ASSERT_TRUE(RecoverFile(path, &dropped, keep).ok());
  EXPECT_EQ(dropped.dropped_keeping_files, 1);
  EXPECT_EQ(ReadBytes(path), theirs);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- 6. A write that never started is not "rolled back" --------------------

TEST_F(WriteSafetyTest, AWriteThatNeverStartedLeavesTheFileAsItIs) {
  std::string path = PreparedForInPlace();
  ASSERT_EQ(WriteDyingAt("after-journal", path, kNext), 86);
  // Meanwhile another program changed the file elsewhere and its mtime.
  const std::vector<uint8_t> theirs = TheirEdit(ReadBytes(path));
  WriteInPlace(path, theirs);
  SetMtime(path, 2000000000, 123456789);
  RecoveryReport report;
  ASSERT_TRUE(RecoverFile(path, &report).ok()) << report.Summary();
  EXPECT_EQ(report.rolled_back, 0);
  EXPECT_EQ(report.not_started, 1);
  EXPECT_EQ(ReadBytes(path), theirs);
  EXPECT_EQ(MtimeNs(path), int64_t{2000000000} * 1000000000 + 123456789)
      << "the mtime was set back: scan and rsync would skip the file";
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- 7. Times before 1970 ------------------------------------------------

TEST_F(WriteSafetyTest, ATimeBefore1970IsRestoredAndNeverBlocksRecovery) {
  std::string path = PreparedForInPlace();
  SetMtime(path, -2, 500000000);  // 1969-12-31 23:59:58.5
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  ASSERT_EQ(MtimeNs(path), -1500000000);
  // A failure after the patch rolls back, restoring the mtime.
  ::setenv("NOMTAG_TEST_FAIL_AT", "patch-fsync", 1);
  auto failed = SafeWriteNamespace(Format(path), path, kNext, {});
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message().find("rollback failed"),
            std::string::npos)
      << failed.status().ToString();
  EXPECT_EQ(ReadBytes(path), old_bytes);
  EXPECT_EQ(MtimeNs(path), -1500000000);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
  // And a write keeping the mtime keeps it.
  WriteOptions keep;
  keep.keep_mtime = true;
  auto r = SafeWriteNamespace(Format(path), path, kNext, keep);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(MtimeNs(path), -1500000000);
}

// --- 8. A copy keeps extended attributes -----------------------------------

TEST_F(WriteSafetyTest, ACopyKeepsExtendedAttributesOrIsRefused) {
  std::string path = Copy("mp3", "xattr");
  const char value[] = "keep me";
  if (::setxattr(path.c_str(), "user.nomtag-test", value, sizeof value, 0) != 0)
    GTEST_SKIP() << "no user xattrs here: " << std::strerror(errno);
  WriteOptions copy;
  copy.copy_only = true;
  auto r = SafeWriteNamespace(Format(path), path, kNext, copy);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->action, WriteResult::Action::kCopied);
  char got[64] = {0};
  ASSERT_EQ(::getxattr(path.c_str(), "user.nomtag-test", got, sizeof got),
            static_cast<ssize_t>(sizeof value))
      << std::strerror(errno);
  EXPECT_STREQ(got, value);

  // A copy that cannot carry an attribute is refused, the file untouched.
  const std::vector<uint8_t> before = ReadBytes(path);
  ::setenv("NOMTAG_TEST_FAIL_AT", "xattr-copy", 1);
  auto refused = SafeWriteNamespace(Format(path), path,
                                    Tags({{"mood-strict", {"other"}}}), copy);
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(ReadBytes(path), before);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- 9. Names near the 255-byte limit -------------------------------------

TEST_F(WriteSafetyTest, AFileNameNearTheLimitCanBeWrittenAndRecovered) {
  std::string name;
  for (int i = 0; i < 80; ++i) name += "\xe6\x97\xa5";  // 日, 3 bytes
  ASSERT_EQ(name.size() + 5, 245u);
  std::string path = Copy("flac", name);
  auto first = SafeWriteNamespace(Format(path), path,
                                  Tags({{"mood-strict", {"happy"}}}), {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  WriteOptions copy;
  copy.copy_only = true;
  auto copied = SafeWriteNamespace(Format(path), path, kNext, copy);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_LE(JournalNameFor(name + ".flac").size(), 255u);

  // A crash leaves a shortened journal; recovery finds its file.
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  ASSERT_EQ(WriteDyingAt("between-range-writes", path,
                         Tags({{"mood-strict", {"happiest"}}})),
            86);
  ASSERT_TRUE(fs::exists(JournalPathFor(path)));
  RecoveryReport report;
  ASSERT_TRUE(RecoverTree(dir_.string(), &report).ok()) << report.Summary();
  EXPECT_EQ(report.rolled_back, 1);
  EXPECT_EQ(ReadBytes(path), old_bytes);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- 12. A journal that cannot be read is never deleted --------------------

TEST_F(WriteSafetyTest, AnIoErrorReadingAJournalKeepsIt) {
  std::string path = PreparedForInPlace();
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  ASSERT_EQ(WriteDyingAt("between-range-writes", path, kNext), 86);
  const std::vector<uint8_t> half = ReadBytes(path);
  ::setenv("NOMTAG_TEST_FAIL_AT", "journal-read", 1);
  RecoveryReport report;
  Status s = RecoverFile(path, &report);
  // Nor is a file of the folder written over a journal nobody can read:
  // it may hold that file's entry.
  const std::string other = Copy("flac", "other");
  const std::vector<uint8_t> other_bytes = ReadBytes(other);
  auto refused = SafeWriteNamespace(Format(path), path, kNext, {});
  auto refused_too = SafeWriteNamespace(Format(other), other, kNext, {});
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(refused_too.ok());
  EXPECT_EQ(ReadBytes(other), other_bytes);
  EXPECT_EQ(report.torn_discarded, 0) << "a short read is not a torn journal";
  EXPECT_TRUE(fs::exists(JournalPathFor(path)));
  EXPECT_EQ(ReadBytes(path), half);
  // Once the disk reads again, the file is rolled back.
  RecoveryReport again;
  ASSERT_TRUE(RecoverFile(path, &again).ok());
  EXPECT_EQ(again.rolled_back, 1);
  EXPECT_EQ(ReadBytes(path), old_bytes);
}

// --- 13. What happened after the new version was durable -------------------

TEST_F(WriteSafetyTest, AFailedFolderFsyncAfterTheRenameIsAWarning) {
  std::string path = PreparedForInPlace();
  WriteOptions copy;
  copy.copy_only = true;
  ::setenv("NOMTAG_TEST_FAIL_AT", "dir-fsync", 1);
  auto r = SafeWriteNamespace(Format(path), path, kNext, copy);
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kCopied);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("new version"), std::string::npos);
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kNext);
}

TEST_F(WriteSafetyTest, AJournalThatCannotBeRemovedIsAWarning) {
  std::string path = PreparedForInPlace();
  ::setenv("NOMTAG_TEST_FAIL_AT", "journal-remove", 1);
  auto r = SafeWriteNamespace(Format(path), path, kNext, {});
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kInPlace);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kNext);
  // The next run sees a finished write and keeps it.
  RecoveryReport report;
  ASSERT_TRUE(RecoverFile(path, &report).ok());
  EXPECT_EQ(report.completed, 1);
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kNext);
}

// --- 14. Group commit: one member's failure is its own ---------------------

// Four files written as one group (SafeWriteBatch): their journals made
// durable together, then every file written, then every file durable.
class GroupWriteTest : public WriteSafetyTest {
 protected:
  void SetUp() override {
    WriteSafetyTest::SetUp();
    for (const char* name : {"a", "b", "c", "d"}) {
      paths_.push_back(PreparedForInPlace(name));
      before_.push_back(ReadBytes(paths_.back()));
    }
  }
  // Writes the group with kNext; options[i] for member i.
  std::vector<Result<WriteResult>> WriteGroup(
      std::vector<WriteOptions> options = {}) {
    options.resize(paths_.size());
    std::vector<std::unique_ptr<TargetFile>> targets;
    std::vector<SafeWriteItem> items;
    for (size_t i = 0; i < paths_.size(); ++i) {
      auto t = TargetFile::Open(paths_[i], TargetFile::Purpose::kWrite);
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      targets.push_back(std::move(*t));
      items.push_back(
          {&Format(paths_[i]), targets.back().get(), kNext, options[i]});
    }
    return SafeWriteBatch(items);
  }
  // Writes the group in a child process told to die at the crash point;
  // returns its exit code (86: it died there).
  int WriteGroupDyingAt(const char* point) {
    pid_t child = ::fork();
    if (child == 0) {
      ::setenv("NOMTAG_TEST_CRASH_AT", point, 1);
      WriteGroup();
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // Writes the group with `step` failing for member `failing` alone (a
  // step of the file itself: the journal is the folder's, shared).
  std::vector<Result<WriteResult>> WriteGroupFailing(const char* step,
                                                     size_t failing) {
    const std::string name = fs::path(paths_[failing]).filename().string();
    ::setenv("NOMTAG_TEST_FAIL_AT", (std::string(step) + "@" + name).c_str(),
             1);
    auto results = WriteGroup();
    ::unsetenv("NOMTAG_TEST_FAIL_AT");
    return results;
  }
  // Every member but `failed` holds kNext; `failed` is byte for byte what
  // it was; nothing is left beside any of them.
  void ExpectOnlyFailed(const std::vector<Result<WriteResult>>& results,
                        size_t failed) {
    ASSERT_EQ(results.size(), paths_.size());
    for (size_t i = 0; i < paths_.size(); ++i) {
      if (i == failed) {
        EXPECT_FALSE(results[i].ok()) << paths_[i];
        EXPECT_EQ(ReadBytes(paths_[i]), before_[i]) << paths_[i];
      } else {
        ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
        EXPECT_EQ(ReadFileTags(Format(paths_[i]), paths_[i])->nom.tags, kNext)
            << paths_[i];
      }
    }
    EXPECT_TRUE(Sidecars(dir_.string()).empty());
  }
  std::vector<std::string> paths_;
  std::vector<std::vector<uint8_t>> before_;
};

TEST_F(GroupWriteTest, EveryMemberIsWrittenInPlace) {
  auto results = WriteGroup();
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
    EXPECT_EQ(results[i]->action, WriteResult::Action::kInPlace);
    EXPECT_EQ(ReadFileTags(Format(paths_[i]), paths_[i])->nom.tags, kNext);
    EXPECT_EQ(results[i]->after.size, fs::file_size(paths_[i]));
  }
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// The four files share a folder, so one journal holds the four writes
// (journal.h): when it cannot be made durable, none of them starts.
TEST_F(GroupWriteTest, AJournalThatCannotBeMadeDurableStopsTheWritesItHolds) {
  ::setenv("NOMTAG_TEST_FAIL_AT", "journal-fsync", 1);
  auto results = WriteGroup();
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  for (size_t i = 0; i < paths_.size(); ++i) {
    EXPECT_FALSE(results[i].ok()) << paths_[i];
    EXPECT_EQ(ReadBytes(paths_[i]), before_[i]) << paths_[i];
  }
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// Two folders, two journals: the one that cannot be made durable stops
// its folder's writes alone.
TEST_F(GroupWriteTest, EachFolderHasItsJournal) {
  fs::create_directories(dir_ / "x");
  fs::create_directories(dir_ / "y");
  for (size_t i = 0; i < paths_.size(); ++i) {
    const fs::path to =
        dir_ / (i < 2 ? "x" : "y") / fs::path(paths_[i]).filename();
    fs::rename(paths_[i], to);
    paths_[i] = to.string();
  }
  ::setenv("NOMTAG_TEST_FAIL_AT", "journal-fsync@/y/", 1);
  auto results = WriteGroup();
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (i < 2) {
      ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
      EXPECT_EQ(ReadFileTags(Format(paths_[i]), paths_[i])->nom.tags, kNext);
    } else {
      EXPECT_FALSE(results[i].ok()) << paths_[i];
      EXPECT_EQ(ReadBytes(paths_[i]), before_[i]) << paths_[i];
    }
  }
  EXPECT_TRUE(Sidecars((dir_ / "x").string()).empty());
  EXPECT_TRUE(Sidecars((dir_ / "y").string()).empty());
}

// A group killed after its files were durable leaves one journal with an
// entry per file. Whatever each file became since, recovery settles each
// entry on its own: a finished write is kept, one that never started is
// left, a half-written file is rolled back, and a file another program
// wrote since is left alone with only its entry kept, so that the others
// can be written again without a conflict.
TEST_F(GroupWriteTest, RecoverySettlesEachEntryOfAGroupsJournal) {
  ASSERT_EQ(WriteGroupDyingAt("before-journal-remove"), 86);
  const std::vector<std::string> left = Sidecars(dir_.string());
  ASSERT_EQ(left, std::vector<std::string>{".a.flac.nomtag-journal"});
  bool torn = true;
  auto entries = ReadJournal((dir_ / left[0]).string(), &torn);
  ASSERT_TRUE(entries.ok() && !torn);
  ASSERT_EQ(entries->size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ((*entries)[i].file, fs::path(paths_[i]).filename().string());

  // a: new (finished). b: old again (as if never started). c: one new
  // byte back to its old value (cut short). d: somebody else's byte.
  testing::WriteBytes(paths_[1], before_[1]);
  std::vector<uint8_t> c = ReadBytes(paths_[2]);
  const Journal::Extent& e = (*entries)[2].written.front();
  c[e.offset] = before_[2][e.offset];
  ASSERT_NE(c, ReadBytes(paths_[2]));
  testing::WriteBytes(paths_[2], c);
  std::vector<uint8_t> d = ReadBytes(paths_[3]);
  const Journal::Extent& f = (*entries)[3].written.front();
  uint8_t b = 'A';
  while (b == static_cast<uint8_t>(f.bytes[0]) || b == before_[3][f.offset])
    ++b;
  d[f.offset] = b;
  testing::WriteBytes(paths_[3], d);

  RecoveryReport report;
  EXPECT_FALSE(RecoverTree(dir_.string(), &report).ok());
  EXPECT_EQ(report.completed, 1) << report.Summary();
  EXPECT_EQ(report.not_started, 1) << report.Summary();
  EXPECT_EQ(report.rolled_back, 1) << report.Summary();
  EXPECT_EQ(ReadFileTags(Format(paths_[0]), paths_[0])->nom.tags, kNext);
  EXPECT_EQ(ReadBytes(paths_[1]), before_[1]);
  EXPECT_EQ(ReadBytes(paths_[2]), before_[2]);
  EXPECT_EQ(ReadBytes(paths_[3]), d) << "their write is not undone";
  ASSERT_EQ(report.kept_journals.size(), 1u);
  EXPECT_NE(report.problems.front().find("something else"), std::string::npos);
  auto kept = ReadJournal((dir_ / left[0]).string(), &torn);
  ASSERT_TRUE(kept.ok() && !torn);
  ASSERT_EQ(kept->size(), 1u) << "only the unsettled entry stays";
  EXPECT_EQ(kept->front().file, "d.flac");

  // a, b and c are written again (the kept entry is not theirs); d is
  // refused while its entry stands.
  auto again = WriteGroup();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(again[i].ok()) << again[i].status().ToString();
    EXPECT_EQ(ReadFileTags(Format(paths_[i]), paths_[i])->nom.tags, kNext);
  }
  ASSERT_FALSE(again[3].ok());
  EXPECT_NE(again[3].status().message().find("something else"),
            std::string::npos)
      << again[3].status().ToString();
  EXPECT_EQ(ReadBytes(paths_[3]), d);

  // The user's word drops it; d is written then.
  RecoveryReport dropped;
  RecoveryOptions keep;
  keep.keep_as_is = true;
  EXPECT_TRUE(RecoverTree(dir_.string(), &dropped, keep).ok());
  EXPECT_EQ(dropped.dropped_keeping_files, 1);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// `tags write` of one file settles a journal named after another file of
// its folder when it holds an entry for it.
TEST_F(GroupWriteTest, RecoveringOneFileFindsItsEntryInAGroupsJournal) {
  ASSERT_EQ(WriteGroupDyingAt("before-journal-remove"), 86);
  testing::WriteBytes(paths_[2], before_[2]);  // as if c never started
  RecoveryReport report;
  ASSERT_TRUE(RecoverFile(paths_[2], &report).ok()) << report.Summary();
  EXPECT_EQ(report.not_started + report.completed, 4) << report.Summary();
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
  // A file with no entry in it leaves the journal alone.
  const std::string other = Copy("flac", "z");
  ASSERT_EQ(WriteGroupDyingAt("before-journal-remove"), 86);
  RecoveryReport none;
  ASSERT_TRUE(RecoverFile(other, &none).ok());
  EXPECT_FALSE(none.AnythingResolved()) << none.Summary();
  EXPECT_EQ(Sidecars(dir_.string()).size(), 1u);
}

TEST_F(GroupWriteTest, AFailedWriteIsRolledBackAlone) {
  ExpectOnlyFailed(WriteGroupFailing("patch-write", 2), 2);
}

TEST_F(GroupWriteTest, AFileThatCannotBeMadeDurableIsRolledBackAlone) {
  ExpectOnlyFailed(WriteGroupFailing("patch-fsync", 3), 3);
}

TEST_F(GroupWriteTest, AClaimLostBeforeItsFirstByteSkipsOnlyThatFile) {
  std::vector<WriteOptions> options(4);
  options[0].before_commit = [] {
    return Status::Refused("another worker took this file over");
  };
  auto results = WriteGroup(options);
  ExpectOnlyFailed(results, 0);
  EXPECT_NE(results[0].status().message().find("another worker"),
            std::string::npos);
}

TEST_F(GroupWriteTest, CopiesAndWritesInPlaceShareTheGroup) {
  std::vector<WriteOptions> options(4);
  options[1].copy_only = true;
  ::setenv("NOMTAG_TEST_FAIL_AT", "rename@/d.flac", 1);
  options[3].copy_only = true;
  auto results = WriteGroup(options);
  ::unsetenv("NOMTAG_TEST_FAIL_AT");
  ExpectOnlyFailed(results, 3);
  EXPECT_EQ(results[0]->action, WriteResult::Action::kInPlace);
  EXPECT_EQ(results[1]->action, WriteResult::Action::kCopied);
}

// --- Issue 17 item 2: nothing outside the root, no link followed ----------

class BeneathTest : public WriteSafetyTest,
                    public ::testing::WithParamInterface<bool> {};

TEST_P(BeneathTest, ASymlinkedFolderInsideTheRootIsRefused) {
  if (GetParam()) ::setenv("NOMTAG_TEST_NO_OPENAT2", "1", 1);
  fs::create_directories(dir_ / "lib" / "in");
  fs::create_directories(dir_ / "outside");
  fs::create_directory_symlink("../outside", dir_ / "lib" / "ext");
  std::string outside = (dir_ / "outside" / "a.mp3").string();
  fs::copy_file(MediaFile("mp3"), outside);
  fs::copy_file(MediaFile("mp3"), dir_ / "lib" / "in" / "a.mp3");
  const std::vector<uint8_t> before = ReadBytes(outside);
  const std::string root = (dir_ / "lib").string();

  for (const char* rel :
       {"ext/a.mp3", "in/../ext/a.mp3", "in/../../outside/a.mp3"}) {
    SCOPED_TRACE(rel);
    auto t = TargetFile::OpenBeneath(root, rel, TargetFile::Purpose::kWrite);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), Status::Code::kRefused)
        << t.status().ToString();
  }
  // The file itself a link to the outside: refused too.
  fs::create_symlink("../../outside/a.mp3", dir_ / "lib" / "in" / "b.mp3");
  EXPECT_FALSE(
      TargetFile::OpenBeneath(root, "in/b.mp3", TargetFile::Purpose::kWrite)
          .ok());
  EXPECT_EQ(ReadBytes(outside), before);
  // A real file beneath the root opens.
  auto ok =
      TargetFile::OpenBeneath(root, "in/a.mp3", TargetFile::Purpose::kWrite);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ::unsetenv("NOMTAG_TEST_NO_OPENAT2");
}

INSTANTIATE_TEST_SUITE_P(Openat2AndWalk, BeneathTest, ::testing::Bool(),
                         [](const auto& info) {
                           return info.param ? "Walk" : "Openat2";
                         });

}  // namespace
}  // namespace nomtag
