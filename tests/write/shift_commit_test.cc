// A tag area that grows at the front, written in place by letting the
// filesystem insert room (write/commit.h, a shift). What a user relies on:
// the audio is neither rewritten nor changed, the file keeps its inode and
// hard links, its bytes are those a copy would have written, and a crash or
// a power cut at any step leaves, after recovery, the old file or the new
// one. Run on the test folder's filesystem; skipped, saying why, where it
// cannot insert ranges (nomtag copies there, as the other tests show).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "formats/media_fixtures.h"
#include "io/filesystem_kind.h"
#include "io/target_file.h"
#include "write/journal.h"
#include "write/recovery.h"
#include "write/safe_write.h"
#include "write/sidecar_names.h"
#include "write/write_test_support.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;
using testing::EncodedNoise;
using testing::FfmpegAudioHash;
using testing::Format;
using testing::ReadBytes;
using testing::Sidecars;
using testing::Tags;
using testing::WriteDyingAt;

// Where on the disk the byte at `at` of path lives (FIEMAP, delayed
// allocations flushed first); -1 when it is in no extent.
int64_t PhysicalOffset(const std::string& path, uint64_t at) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  // One extent asked for: the map and room for it after it.
  alignas(struct fiemap) char
      buf[sizeof(struct fiemap) + sizeof(struct fiemap_extent)] = {};
  auto* map = reinterpret_cast<struct fiemap*>(buf);
  map->fm_start = at;
  map->fm_length = 1;
  map->fm_flags = FIEMAP_FLAG_SYNC;
  map->fm_extent_count = 1;
  const int r = ::ioctl(fd, FS_IOC_FIEMAP, map);
  ::close(fd);
  if (r != 0 || map->fm_mapped_extents != 1) return -1;
  const struct fiemap_extent& e = map->fm_extents[0];
  return static_cast<int64_t>(e.fe_physical + (at - e.fe_logical));
}

class ShiftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / testing::TestFolderName("nomtag-shift");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const char* v : {"NOMTAG_SHIFT", "NOMTAG_ALIGN_COPIES",
                          "NOMTAG_TEST_CRASH_AT", "NOMTAG_TEST_FAIL_AT"})
      ::unsetenv(v);
    const std::string probe = (dir_ / "probe").string();
    std::ofstream(probe) << "probe";
    const int fd = ::open(probe.c_str(), O_RDONLY | O_CLOEXEC);
    shifts_here_ = fd >= 0 && MayInsertRanges(fd);
    // Where a copy would share the audio (XFS), nomtag copies unless the
    // file is hard-linked: the shift is asked for by name there.
    clones_here_ = fd >= 0 && MayShareExtents(FilesystemType(fd));
    ::close(fd);
    fs::remove(probe);
    SetUpShiftEnv();
  }
  void SetUpShiftEnv() {
    if (clones_here_)
      ::setenv("NOMTAG_SHIFT", "on", 1);
    else
      ::unsetenv("NOMTAG_SHIFT");
  }
  void TearDown() override {
    for (const char* v : {"NOMTAG_SHIFT", "NOMTAG_ALIGN_COPIES"}) ::unsetenv(v);
    fs::remove_all(dir_);
  }

  // A 20-second file as an encoder leaves it: no room for our tags.
  std::string Fresh(const std::string& name, const std::string& encode) {
    const std::string path = EncodedNoise(dir_, name, encode, 20);
    testing::RunPython("import mutagen\nmutagen.File('" + path +
                       "').save(padding=lambda info: 0)\n");
    return path;
  }

  fs::path dir_;
  bool shifts_here_ = false;
  bool clones_here_ = false;
};

#define SKIP_UNLESS_SHIFTS_HERE()                                    \
  if (!shifts_here_)                                                 \
  GTEST_SKIP() << dir_                                               \
               << " cannot insert ranges (ext4 with extents or XFS " \
                  "can): nomtag copies there"

const TagSet kFirst = Tags({{"mood-strict", {"happy"}}, {"bpm", {"120"}}});

TEST_F(ShiftTest, AFirstWriteGrowsTheFileInPlaceAndLeavesTheAudioOnDisk) {
  SKIP_UNLESS_SHIFTS_HERE();
  struct Case {
    const char* ext;
    const char* encode;
  };
  for (const Case& c :
       {Case{"mp3", "-c:a libmp3lame -id3v2_version 3"},
        Case{"flac", "-c:a flac"}, Case{"m4a", "-c:a aac -movflags +faststart"},
        Case{"ogg", "-c:a libvorbis"}, Case{"opus", "-c:a libopus"}}) {
    SCOPED_TRACE(c.ext);
    const std::string path = Fresh(std::string("grow.") + c.ext, c.encode);
    const std::string twin = (dir_ / (std::string("twin.") + c.ext)).string();
    const std::string link = (dir_ / (std::string("link.") + c.ext)).string();
    fs::copy_file(path, twin, fs::copy_options::overwrite_existing);
    fs::create_hard_link(path, link);
    const std::vector<uint8_t> before = ReadBytes(path);
    ASSERT_GT(before.size(), 128u * 1024);
    const std::string audio = FfmpegAudioHash(path);
    const std::vector<std::string> theirs = testing::MutagenNames(c.ext, path);
    struct stat st0;
    ASSERT_EQ(::stat(path.c_str(), &st0), 0);
    const int64_t last_block = PhysicalOffset(path, before.size() - 1);
    ASSERT_GE(last_block, 0);

    auto wchar = [] {
      std::ifstream io("/proc/self/io");
      std::string key;
      uint64_t v = 0;
      while (io >> key >> v)
        if (key == "wchar:") return v;
      return uint64_t{0};
    };
    const uint64_t written0 = wchar();
    auto r = SafeWriteNamespace(Format(path), path, kFirst, {});
    const uint64_t written = wchar() - written0;
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->action, WriteResult::Action::kGrownInPlace);
    EXPECT_STREQ(ActionName(r->action), "grown in place");

    // The same file, its hard link with it, and only the front written:
    // the audio's last block is where it was on the disk.
    const std::vector<uint8_t> after = ReadBytes(path);
    struct stat st1;
    ASSERT_EQ(::stat(path.c_str(), &st1), 0);
    EXPECT_EQ(st1.st_ino, st0.st_ino);
    EXPECT_EQ(st1.st_nlink, 2u);
    EXPECT_EQ(ReadBytes(link), after);
    EXPECT_EQ((after.size() - before.size()) % 4096, 0u);
    EXPECT_LT(written, 64u * 1024) << "written by this process (journal too)";
    EXPECT_EQ(PhysicalOffset(path, after.size() - 1), last_block);
    EXPECT_TRUE(Sidecars(dir_).empty());

    // What others read: our tags, theirs, the audio.
    EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, kFirst);
    EXPECT_EQ(FfmpegAudioHash(path), audio);
    std::vector<std::string> names = testing::MutagenNames(c.ext, path);
    for (const std::string& n : theirs)
      EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
    EXPECT_EQ(names.size(), theirs.size() + 2);

    // Byte for byte what the copy laid out the same way writes.
    ::setenv("NOMTAG_SHIFT", "off", 1);
    ::setenv("NOMTAG_ALIGN_COPIES", "on", 1);
    auto copied = SafeWriteNamespace(Format(twin), twin, kFirst, {});
    ::unsetenv("NOMTAG_ALIGN_COPIES");
    SetUpShiftEnv();
    ASSERT_TRUE(copied.ok()) << copied.status().ToString();
    EXPECT_EQ(copied->action, WriteResult::Action::kCopied);
    EXPECT_EQ(ReadBytes(twin), after) << "a shift and a copy disagree";

    // The next change fits in the room the shift left.
    auto next = SafeWriteNamespace(
        Format(path), path, Tags({{"mood-strict", {"sad"}}, {"bpm", {"90"}}}),
        {});
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->action, WriteResult::Action::kInPlace);
  }
}

// A file grown in place keeps its mode, and its mtime when the library
// asks (the insert moves it, the write puts it back).
TEST_F(ShiftTest, KeepsItsModeAndOptionallyItsMtime) {
  SKIP_UNLESS_SHIFTS_HERE();
  const std::string path = Fresh("kept.mp3", "-c:a libmp3lame");
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  const struct timespec times[2] = {{1000000000, 0}, {1000000000, 123}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
  WriteOptions keep;
  keep.keep_mtime = true;
  auto r = SafeWriteNamespace(Format(path), path, kFirst, keep);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kGrownInPlace);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123);
  EXPECT_EQ(r->after.mtime_ns, 1000000000LL * 1000000000LL + 123)
      << "the store is told the mtime the file has";
}

// Killed at each step of a shift: recovery gives the old file back (or
// keeps the new one, once it was durable), byte for byte, and nothing is
// left beside it.
TEST_F(ShiftTest, KilledAtEachStepTheFileIsOldOrNew) {
  SKIP_UNLESS_SHIFTS_HERE();
  const std::string pristine = Fresh("pristine.mp3", "-c:a libmp3lame");
  const std::vector<uint8_t> old_bytes = ReadBytes(pristine);
  const std::string done = (dir_ / "done.mp3").string();
  fs::copy_file(pristine, done);
  auto full = SafeWriteNamespace(Format(done), done, kFirst, {});
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_EQ(full->action, WriteResult::Action::kGrownInPlace);
  const std::vector<uint8_t> new_bytes = ReadBytes(done);

  struct Case {
    const char* point;
    bool finished;
  };
  for (const Case& c : {Case{"after-journal", false},
                        {"after-shift", false},
                        {"before-journal-remove", true}}) {
    SCOPED_TRACE(c.point);
    const std::string path = (dir_ / "song.mp3").string();
    fs::copy_file(pristine, path, fs::copy_options::overwrite_existing);
    ASSERT_EQ(WriteDyingAt(c.point, path, kFirst), 86);
    ASSERT_FALSE(Sidecars(dir_).empty()) << "no journal left";
    RecoveryReport report;
    ASSERT_TRUE(RecoverFile(path, &report).ok())
        << (report.problems.empty() ? "" : report.problems[0]);
    EXPECT_EQ(ReadBytes(path), c.finished ? new_bytes : old_bytes);
    EXPECT_EQ(report.completed, c.finished ? 1 : 0);
    EXPECT_TRUE(Sidecars(dir_).empty());
    // The rerun finishes the work.
    auto again = SafeWriteNamespace(Format(path), path, kFirst, {});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(ReadBytes(path), new_bytes);
  }
}

// A step of a shift that fails leaves the old file, byte for byte, and
// nothing beside it; in a group, the member alone: the others are written
// (the other one here in a folder of its own, so that its journal is too).
TEST_F(ShiftTest, AFailedStepLeavesTheOldFileAndTheGroupGoesOn) {
  SKIP_UNLESS_SHIFTS_HERE();
  const std::string pristine = Fresh("pristine.mp3", "-c:a libmp3lame");
  const std::vector<uint8_t> old_bytes = ReadBytes(pristine);
  for (const char* step : {"journal-write", "identity", "shift-insert",
                           "patch-write", "shift-fsync"}) {
    SCOPED_TRACE(step);
    const std::string a = (dir_ / "a.mp3").string();
    fs::create_directories(dir_ / "sub");
    const std::string b = (dir_ / "sub" / "b.mp3").string();
    for (const std::string& p : {a, b})
      fs::copy_file(pristine, p, fs::copy_options::overwrite_existing);
    ::setenv("NOMTAG_TEST_FAIL_AT", (std::string(step) + "@a.mp3").c_str(), 1);
    auto ta = TargetFile::Open(a, TargetFile::Purpose::kWrite);
    auto tb = TargetFile::Open(b, TargetFile::Purpose::kWrite);
    ASSERT_TRUE(ta.ok() && tb.ok());
    auto results = SafeWriteBatch({{&Format(a), ta->get(), kFirst, {}},
                                   {&Format(b), tb->get(), kFirst, {}}});
    ::unsetenv("NOMTAG_TEST_FAIL_AT");
    ASSERT_EQ(results.size(), 2u);
    EXPECT_FALSE(results[0].ok());
    if (!results[0].ok()) {
      EXPECT_NE(results[0].status().message().find(step), std::string::npos)
          << results[0].status().ToString();
    }
    EXPECT_EQ(ReadBytes(a), old_bytes);
    ASSERT_TRUE(results[1].ok()) << results[1].status().ToString();
    EXPECT_EQ(results[1]->action, WriteResult::Action::kGrownInPlace);
    EXPECT_EQ(ReadFileTags(Format(b), b)->nom.tags, kFirst);
    ta->reset();
    tb->reset();
    EXPECT_TRUE(Sidecars(dir_).empty());
    EXPECT_TRUE(Sidecars(dir_ / "sub").empty());
  }
}

// What a power cut can leave of a shift, made here the way the filesystem
// would leave it (ext4 and XFS grow the file first and move its blocks
// from the end backwards, one transaction at a time; a collapse moves them
// back and shrinks the file last): each is recognised and rolled back to
// the old bytes, and a file that something else wrote since is left alone
// with its journal kept.
TEST_F(ShiftTest, EveryStateAPowerCutLeavesIsRolledBack) {
  SKIP_UNLESS_SHIFTS_HERE();
  const std::string pristine = Fresh("pristine.mp3", "-c:a libmp3lame");
  const std::vector<uint8_t> old_bytes = ReadBytes(pristine);
  const std::string path = (dir_ / "song.mp3").string();

  // The journal and the file as a write killed right after its room was
  // made durable leaves them.
  Journal j;
  auto killed_after_shift = [&] {
    fs::copy_file(pristine, path, fs::copy_options::overwrite_existing);
    ASSERT_EQ(WriteDyingAt("after-shift", path, kFirst), 86);
    bool torn = true;
    auto entries = ReadJournal(JournalPathFor(path), &torn);
    ASSERT_TRUE(entries.ok() && !torn && entries->size() == 1);
    j = entries->front();
    ASSERT_GT(j.shift_len, 0u);
    ASSERT_EQ(j.identity.size, old_bytes.size());
  };
  auto with_fd = [&](auto fn) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    fn(fd);
    ::close(fd);
  };
  auto collapse = [](int fd, uint64_t at, uint64_t len) {
    ASSERT_EQ(::fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, at, len), 0);
  };
  auto insert = [](int fd, uint64_t at, uint64_t len) {
    ASSERT_EQ(::fallocate(fd, FALLOC_FL_INSERT_RANGE, at, len), 0);
  };
  auto half_front = [&](int fd) {
    const std::string& front = j.written.front().bytes;
    ASSERT_EQ(::pwrite(fd, front.data(), front.size() / 2, 0),
              static_cast<ssize_t>(front.size() / 2));
  };
  // A block-aligned offset well inside the audio.
  auto mid = [&] { return old_bytes.size() / 2 / 4096 * 4096; };

  struct Case {
    const char* state;
    std::function<void(int)> make;
    bool ours;  // false: written by something else since
  };
  const std::vector<Case> cases = {
      {"the room made, no new byte", [](int) {}, true},
      {"the room made, half the new front written", half_front, true},
      {"cut while the blocks moved",
       [&](int fd) {
         collapse(fd, j.shift_at, j.shift_len);
         insert(fd, mid(), j.shift_len);
       },
       true},
      {"grown, no block moved yet",
       [&](int fd) {
         collapse(fd, j.shift_at, j.shift_len);
         ASSERT_EQ(::ftruncate(fd, old_bytes.size() + j.shift_len), 0);
       },
       true},
      {"a rollback's collapse cut while the blocks moved",
       [&](int fd) {
         half_front(fd);
         collapse(fd, j.shift_at, j.shift_len);
         insert(fd, mid(), j.shift_len);
       },
       true},
      {"a rollback cut after its collapse",
       [&](int fd) {
         half_front(fd);
         collapse(fd, j.shift_at, j.shift_len);
       },
       true},
      {"a tag byte changed by another program",
       [&](int fd) {
         const char c = static_cast<char>(~j.written.front().bytes[3]);
         ASSERT_EQ(::pwrite(fd, &c, 1, 3), 1);
       },
       false},
      {"a hole the shift cannot have made",
       [&](int fd) {
         ASSERT_EQ(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                               mid() + j.shift_len + 4096 * 4, 4096),
                   0);
       },
       false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.state);
    ASSERT_NO_FATAL_FAILURE(killed_after_shift());
    with_fd(c.make);
    const std::vector<uint8_t> left = ReadBytes(path);
    RecoveryReport report;
    const Status s = RecoverFile(path, &report);
    if (c.ours) {
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(report.rolled_back + report.not_started, 1);
      EXPECT_EQ(ReadBytes(path), old_bytes) << "not the old file";
      EXPECT_TRUE(Sidecars(dir_).empty());
    } else {
      EXPECT_FALSE(s.ok());
      EXPECT_EQ(report.kept_journals.size(), 1u);
      EXPECT_EQ(ReadBytes(path), left) << "another program's file touched";
      fs::remove(JournalPathFor(path));
    }
  }
}

}  // namespace
}  // namespace nomtag
