// The safe write on real files in a temporary directory, through the real
// format plugins: what lands on disk, what never does, and what a failure
// or a crash at each step leaves behind.
#include "write/safe_write.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "formats/media_fixtures.h"
#include "write/journal.h"
#include "write/recovery.h"
#include "write/sidecar_names.h"
#include "write/write_test_support.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;
using testing::FfmpegAudioHash;
using testing::MediaFile;
using testing::ReadBytes;

using testing::EncodedNoise;
using testing::Format;
using testing::Registry;
using testing::Sidecars;
using testing::Tags;
using testing::WriteDyingAt;

struct FileState {
  std::vector<uint8_t> bytes;
  struct stat st;
};

FileState State(const std::string& path) {
  FileState s;
  s.bytes = ReadBytes(path);
  EXPECT_EQ(::stat(path.c_str(), &s.st), 0);
  return s;
}

// A counter of /proc/self/io for this process ("wchar:", "rchar:").
uint64_t ProcIo(const std::string& counter) {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value)
    if (key == counter) return value;
  ADD_FAILURE() << "no " << counter << " in /proc/self/io";
  return 0;
}

// Bytes this process has passed to write calls so far (wchar): what a
// commit really wrote, journal included, measured by the kernel rather
// than reported by the commit.
uint64_t WrittenByThisProcess() { return ProcIo("wchar:"); }

// Bytes this process has asked read calls for so far (rchar), page cache
// hits included: what a write had to read.
uint64_t ReadByThisProcess() { return ProcIo("rchar:"); }

// How many bytes differ between two versions of a file (a length change
// counts each byte past the shorter end).
uint64_t BytesThatDiffer(const std::vector<uint8_t>& a,
                         const std::vector<uint8_t>& b) {
  uint64_t n = std::max(a.size(), b.size()) - std::min(a.size(), b.size());
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += a[i] != b[i];
  return n;
}

// An Ogg Vorbis or Opus file (kind "ogg" or "opus") of pink noise,
// *path = dir/stem.kind, given nom tags once by nomtag: its comment
// packet then has the room a small change needs to be written in place.
void OggWrittenOnce(const fs::path& dir, const std::string& stem,
                    const std::string& kind, int seconds, std::string* path) {
  *path =
      EncodedNoise(dir, stem + "." + kind,
                   kind == "ogg" ? "-c:a libvorbis" : "-c:a libopus", seconds);
  auto first = SafeWriteNamespace(Format(*path), *path,
                                  Tags({{"mood-strict", {"happy"}}}), {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
}

class SafeWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / testing::TestFolderName("nomtag-write");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ::unsetenv("NOMTAG_TEST_FAIL_AT");
    ::unsetenv("NOMTAG_TEST_CRASH_AT");
  }
  void TearDown() override {
    ::unsetenv("NOMTAG_TEST_FAIL_AT");
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  // A private copy of a pristine media file.
  std::string Copy(const std::string& kind, const std::string& name) {
    std::string ext = kind == "mp3-v23" ? "mp3" : kind;
    std::string path = (dir_ / (name + "." + ext)).string();
    fs::copy_file(MediaFile(kind), path);
    return path;
  }
  // A file whose next small change fits in place (its first write made
  // room). On files this small TagLib trims FLAC padding above 4 KiB, so a
  // change that shrinks the comment moves the file; the tests grow it.
  std::string PreparedForInPlace(const std::string& kind) {
    std::string path = Copy(kind, "inplace");
    auto r = SafeWriteNamespace(Format(path), path,
                                Tags({{"mood-strict", {"happy"}}}), {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return path;
  }
  // The fixtures' Ogg files carry mutagen's default padding; this takes it
  // away, as a file straight from an encoder has none.
  std::string CopyWithoutPadding(const std::string& kind,
                                 const std::string& name) {
    std::string path = Copy(kind, name);
    if (kind == "ogg" || kind == "opus")
      testing::RunPython("import mutagen\nmutagen.File('" + path +
                         "').save(padding=lambda info: 0)\n");
    return path;
  }
  fs::path dir_;
};

// --- What users rely on, per format ---------------------------------------

class EveryFormat : public SafeWriteTest,
                    public ::testing::WithParamInterface<const char*> {};

TEST_P(EveryFormat, WritesVerifiesAndLeavesEverythingElse) {
  std::string path = Copy(GetParam(), "track");
  const FormatPlugin& format = Format(path);
  auto before = ReadFileTags(format, path);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  std::string audio = FfmpegAudioHash(path);
  const std::string independent_before = testing::IndependentView(path);

  TagSet desired = Tags({{"mood-strict", {"happy"}},
                         {"mood-regular", {"happy", "calm"}},
                         {"danceability", {"0.8125"}}});
  auto r = SafeWriteNamespace(format, path, desired, {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->action, WriteResult::Action::kUnchanged);

  auto after = ReadFileTags(format, path);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->nom.tags, desired);
  EXPECT_EQ(after->foreign, before->foreign);
  EXPECT_EQ(FfmpegAudioHash(path), audio) << "ffmpeg sees other audio";
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
  // The same by a reader with no nomtag code in it: our keys and values,
  // every foreign item (pictures and blocks included), the audio.
  const std::string independent_after = testing::IndependentView(path);
  EXPECT_NE(independent_after.find(
                R"("ours": {"danceability": ["0.8125"], "mood-regular": )"
                R"(["happy", "calm"], "mood-strict": ["happy"]})"),
            std::string::npos)
      << independent_after;
  EXPECT_EQ(independent_after.substr(0, independent_after.find("\"ours\"")),
            independent_before.substr(0, independent_before.find("\"ours\"")))
      << "foreign items or audio changed, by mutagen and ffmpeg";

  // The same desired set again: not rewritten, not even touched.
  FileState settled = State(path);
  auto again = SafeWriteNamespace(format, path, desired, {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->action, WriteResult::Action::kUnchanged);
  FileState now = State(path);
  EXPECT_EQ(now.bytes, settled.bytes);
  EXPECT_EQ(now.st.st_mtim.tv_nsec, settled.st.st_mtim.tv_nsec);
  EXPECT_EQ(now.st.st_mtim.tv_sec, settled.st.st_mtim.tv_sec);
  EXPECT_EQ(now.st.st_ino, settled.st.st_ino);

  // A change that fits (same size here: TagLib trims FLAC padding on
  // small files) is patched in place: same inode, a few bytes written,
  // journal included.
  TagSet changed = desired;
  changed["mood-strict"] = {"sadly"};
  uint64_t wchar = WrittenByThisProcess();
  auto patch = SafeWriteNamespace(format, path, changed, {});
  wchar = WrittenByThisProcess() - wchar;
  ASSERT_TRUE(patch.ok()) << patch.status().ToString();
  EXPECT_EQ(patch->action, WriteResult::Action::kInPlace);
  EXPECT_TRUE(patch->payload_proven_by_mapping)
      << "the audio is proven unchanged from the overlay, not re-read";
  EXPECT_EQ(State(path).st.st_ino, settled.st.st_ino);
  EXPECT_LT(patch->bytes_written, 4u * 1024);
  EXPECT_LT(wchar, 4u * 1024) << "written, by the kernel's count";
  EXPECT_GE(wchar, BytesThatDiffer(settled.bytes, State(path).bytes));
  EXPECT_EQ(ReadFileTags(format, path)->nom.tags, changed);

  // Clearing removes every key and still nothing else.
  auto cleared = SafeWriteNamespace(format, path, {}, {});
  ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
  auto empty = ReadFileTags(format, path);
  EXPECT_TRUE(empty->nom.tags.empty());
  EXPECT_EQ(empty->foreign, before->foreign);
  EXPECT_EQ(FfmpegAudioHash(path), audio);
}

INSTANTIATE_TEST_SUITE_P(Formats, EveryFormat,
                         ::testing::Values("mp3", "mp3-v23", "m4a", "flac",
                                           "ogg", "opus"));

// --- The commit paths -------------------------------------------------------

TEST_F(SafeWriteTest, SecondWriteOfAFlacIsPatchedInPlace) {
  std::string path = PreparedForInPlace("flac");
  FileState before = State(path);
  ino_t inode = before.st.st_ino;
  uint64_t wchar = WrittenByThisProcess();
  auto r = SafeWriteNamespace(Format(path), path,
                              Tags({{"mood-strict", {"happier"}}}), {});
  wchar = WrittenByThisProcess() - wchar;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kInPlace);
  EXPECT_EQ(State(path).st.st_ino, inode);
  EXPECT_LT(r->bytes_written, 1024u) << "only the changed bytes";
  // Outside the commit's own count: what the kernel saw written (journal
  // included), and what differs on disk.
  EXPECT_LT(wchar, 1024u);
  EXPECT_GE(wchar, BytesThatDiffer(before.bytes, State(path).bytes));
  EXPECT_LT(BytesThatDiffer(before.bytes, State(path).bytes), 1024u);
}

// A write that has to move the file leaves padding, so that the next
// write, even one that grows the tags, fits in place (MP3, FLAC, Ogg
// Vorbis and Opus; MP4 files whose moov follows mdat only ever grow at
// the end).
TEST_F(SafeWriteTest, AMovedFileKeepsRoomForTheNextWrite) {
  for (const char* kind : {"mp3", "flac", "m4a", "ogg", "opus"}) {
    SCOPED_TRACE(kind);
    std::string path = CopyWithoutPadding(kind, std::string("room-") + kind);
    auto first = SafeWriteNamespace(Format(path), path,
                                    Tags({{"mood-strict", {"happy"}}}), {});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    auto grown =
        SafeWriteNamespace(Format(path), path,
                           Tags({{"mood-strict", {"happy"}},
                                 {"mood-regular", {"happy", "calm", "bright"}},
                                 {"bpm", {"128"}}}),
                           {});
    ASSERT_TRUE(grown.ok()) << grown.status().ToString();
    EXPECT_EQ(grown->action, WriteResult::Action::kInPlace);
  }
}

// Ogg has no padding of its own: nomtag pads the comment packet with
// zeros (RFC 7845 for Opus; Vorbis readers stop at the framing bit, and
// mutagen pads the same way). Independent readers still see every tag,
// and a change that shrinks or grows within the room is patched in place.
TEST_F(SafeWriteTest, OggCommentPaddingIsReadByOthersAndReused) {
  for (const char* kind : {"ogg", "opus"}) {
    SCOPED_TRACE(kind);
    std::string path = CopyWithoutPadding(kind, std::string("pad-") + kind);
    const std::vector<std::string> foreign_names =
        testing::MutagenNames(kind, path);
    const std::string audio = FfmpegAudioHash(path);
    auto first = SafeWriteNamespace(Format(path), path,
                                    Tags({{"mood-strict", {"happy"}}}), {});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    EXPECT_EQ(first->action, WriteResult::Action::kCopied);
    const std::string padding_seen = testing::RunPython(
        "import mutagen\n"
        "f = mutagen.File('" +
        path +
        "')\n"
        "print(f.tags._padding)\n"
        "print(f['NOM:MOOD-STRICT'][0])\n");
    EXPECT_EQ(padding_seen.substr(padding_seen.find('\n') + 1), "happy\n");
    EXPECT_EQ(std::stoi(padding_seen), 1024) << "mutagen sees our padding";
    EXPECT_EQ(FfmpegAudioHash(path), audio);

    for (const TagSet& next :
         {Tags({{"mood-strict", {"sad"}}}),
          Tags({{"mood-strict", {"sad"}}, {"bpm", {"128"}}}), TagSet{}}) {
      FileState before = State(path);
      ino_t inode = before.st.st_ino;
      uint64_t wchar = WrittenByThisProcess();
      auto r = SafeWriteNamespace(Format(path), path, next, {});
      wchar = WrittenByThisProcess() - wchar;
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->action, WriteResult::Action::kInPlace);
      EXPECT_EQ(State(path).st.st_ino, inode);
      EXPECT_LT(r->bytes_written, 4u * 1024);
      EXPECT_LT(wchar, 4u * 1024) << "written, by the kernel's count";
      EXPECT_GE(wchar, BytesThatDiffer(before.bytes, State(path).bytes));
      EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, next);
    }
    EXPECT_EQ(testing::MutagenNames(kind, path), foreign_names);
    EXPECT_EQ(FfmpegAudioHash(path), audio);
  }
}

// An in-place write of an Ogg Vorbis or Opus comment reads the header
// pages and the tail, not the audio: the audio pages are named as one
// range from the headers and proven untouched by the overlay's mapping.
TEST_F(SafeWriteTest, InPlaceOggWriteReadsTheHeadersNotTheAudio) {
  for (const char* kind : {"ogg", "opus"}) {
    SCOPED_TRACE(kind);
    std::string path;
    ASSERT_NO_FATAL_FAILURE(OggWrittenOnce(dir_, "long", kind, 180, &path));
    const std::string audio = FfmpegAudioHash(path);
    const std::vector<std::string> foreign = testing::MutagenNames(kind, path);
    const uint64_t size = State(path).bytes.size();

    uint64_t rchar = ReadByThisProcess();
    auto r = SafeWriteNamespace(Format(path), path,
                                Tags({{"mood-strict", {"sad"}}}), {});
    rchar = ReadByThisProcess() - rchar;
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->action, WriteResult::Action::kInPlace);
    EXPECT_TRUE(r->payload_proven_by_mapping);
    EXPECT_LT(rchar, size / 4)
        << "read " << rchar << " of a " << size << "-byte file";
    EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags,
              Tags({{"mood-strict", {"sad"}}}));
    EXPECT_EQ(FfmpegAudioHash(path), audio);
    EXPECT_EQ(testing::MutagenNames(kind, path), foreign);
  }
}

// Where the byte at old offset `at` of before lands in after: its 4 KiB
// found again. npos when it is not there whole.
size_t Moved(const std::vector<uint8_t>& before,
             const std::vector<uint8_t>& after, size_t at) {
  const std::string_view a(reinterpret_cast<const char*>(after.data()),
                           after.size());
  const std::string_view chunk(
      reinterpret_cast<const char*>(before.data()) + at, 4096);
  return a.find(chunk);
}

// On a filesystem that shares extents (XFS, Btrfs, ZFS), a copy lays its
// tag area out so the audio keeps its old offset within a 4 KiB block,
// and the copy clones it instead of writing it again. Forced on here
// (NOMTAG_ALIGN_COPIES=on) on whatever the test folder is: the layout,
// the tags, the foreign items and the audio, by ffmpeg and mutagen.
TEST_F(SafeWriteTest, CopiesKeepTheAudioOnItsBlockOffsetForCloning) {
  ::setenv("NOMTAG_ALIGN_COPIES", "on", 1);
  ::setenv("NOMTAG_SHIFT", "off", 1);  // a copy, even where it could grow
  // An Ogg stream too: its headers keep their page count, so its audio
  // pages move whole (the padding takes a correction for the lacing).
  struct Case {
    const char* ext;
    const char* encode;
    const char* ours;  // how mutagen names our keys
  };
  for (const Case& c : {Case{"mp3", "-c:a libmp3lame -id3v2_version 3", "nom:"},
                        Case{"flac", "-c:a flac", "NOM:"},
                        Case{"m4a", "-c:a aac -movflags +faststart",
                             "----:com.apple.iTunes:nom."},
                        Case{"ogg", "-c:a libvorbis", "NOM:"},
                        Case{"opus", "-c:a libopus", "NOM:"}}) {
    SCOPED_TRACE(c.ext);
    const std::string path =
        EncodedNoise(dir_, std::string("aligned.") + c.ext, c.encode, 20);
    // As an encoder leaves it: no room for our tags (ffmpeg pads FLAC).
    testing::RunPython("import mutagen\nmutagen.File('" + path +
                       "').save(padding=lambda info: 0)\n");
    const std::vector<uint8_t> before = ReadBytes(path);
    const std::string audio = FfmpegAudioHash(path);
    const TagSet tags = Tags({{"mood-strict", {"happy"}}, {"bpm", {"120"}}});
    std::vector<std::string> names = testing::MutagenNames(c.ext, path);
    for (const char* key : {"bpm", "mood-strict"})
      names.push_back(c.ours + std::string(key));
    if (c.ours == std::string("NOM:"))
      for (size_t i = names.size() - 2; i < names.size(); ++i)
        std::transform(names[i].begin(), names[i].end(), names[i].begin(),
                       ::toupper);
    std::sort(names.begin(), names.end());

    auto r = SafeWriteNamespace(Format(path), path, tags, {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->action, WriteResult::Action::kCopied);
    const std::vector<uint8_t> after = ReadBytes(path);
    const size_t mid = before.size() / 2 / 4096 * 4096 + 123;
    const size_t moved = Moved(before, after, mid);
    ASSERT_NE(moved, std::string::npos) << "the audio is not there whole";
    EXPECT_EQ(moved % 4096, mid % 4096) << "the audio left its block offset";
    EXPECT_GT(after.size(), before.size());
    EXPECT_LT(after.size(), before.size() + 16 * 1024) << "padding run away";
    EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, tags);
    EXPECT_EQ(FfmpegAudioHash(path), audio);
    EXPECT_EQ(testing::MutagenNames(c.ext, path), names)
        << "theirs and ours, by mutagen";
    // The next change fits in the room the alignment left.
    auto next = SafeWriteNamespace(
        Format(path), path, Tags({{"mood-strict", {"sad"}}, {"bpm", {"90"}}}),
        {});
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(next->action, WriteResult::Action::kInPlace);
  }
  ::unsetenv("NOMTAG_ALIGN_COPIES");
  ::unsetenv("NOMTAG_SHIFT");
}

// A page deep in the audio that no Ogg reader can parse (here its capture
// pattern is gone) is not ours to judge: players skip it. A comment
// change that leaves every byte from the first audio page on where it was
// is proven by the mapping and written; one that would move the audio
// pages cannot be proven (the exact walk stops at the broken page) and is
// refused, the file untouched. Found by fuzz_format_plugins.
TEST_F(SafeWriteTest, OggWithABrokenAudioPageIsWrittenOnlyInPlace) {
  for (const char* kind : {"ogg", "opus"}) {
    SCOPED_TRACE(kind);
    std::string path;
    ASSERT_NO_FATAL_FAILURE(
        OggWrittenOnce(dir_, "broken-page", kind, 20, &path));
    std::vector<uint8_t> bytes = ReadBytes(path);
    const std::string_view view(reinterpret_cast<const char*>(bytes.data()),
                                bytes.size());
    const size_t broken = view.find("OggS", bytes.size() / 2);
    ASSERT_NE(broken, std::string_view::npos);
    bytes[broken] = 'X';
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    const std::vector<std::string> foreign = testing::MutagenNames(kind, path);

    auto r = SafeWriteNamespace(Format(path), path,
                                Tags({{"mood-strict", {"sad"}}}), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->action, WriteResult::Action::kInPlace);
    EXPECT_TRUE(r->payload_proven_by_mapping);
    const std::vector<uint8_t> after = ReadBytes(path);
    ASSERT_EQ(after.size(), bytes.size());
    size_t last_change = 0;
    for (size_t i = 0; i < after.size(); ++i)
      if (after[i] != bytes[i]) last_change = i;
    EXPECT_LT(last_change, 64u * 1024) << "a byte past the headers changed";
    EXPECT_EQ(after[broken], 'X');
    EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags,
              Tags({{"mood-strict", {"sad"}}}));
    EXPECT_EQ(testing::MutagenNames(kind, path), foreign);

    // A comment too big for the room left repages the stream.
    auto moved = SafeWriteNamespace(
        Format(path), path,
        Tags({{"mood-strict", {"sad"}}, {"note", {std::string(70000, 'x')}}}),
        {});
    ASSERT_FALSE(moved.ok());
    EXPECT_NE(moved.status().message().find("broken Ogg page"),
              std::string::npos)
        << moved.status().ToString();
    EXPECT_EQ(ReadBytes(path), after) << "a refused write changed the file";
  }
}

// Data after an Ogg comment that is not zero padding is somebody's (RFC
// 7845 asks editors to keep an Opus suffix whose first byte is odd): it is
// kept byte for byte, and gets no padding after it.
TEST_F(SafeWriteTest, DataAfterAnOggCommentIsKept) {
  for (const char* kind : {"ogg", "opus"}) {
    SCOPED_TRACE(kind);
    std::string path = Copy(kind, std::string("suffix-") + kind);
    // mutagen's page API appends the suffix to the comment packet.
    const std::string packet_of =
        "from mutagen.ogg import OggPage\n"
        "def comment_pages(f):\n"
        "    f.seek(0); OggPage(f); pages = [OggPage(f)]\n"
        "    while not (pages[-1].complete or len(pages[-1].packets) > 1):\n"
        "        pages.append(OggPage(f))\n"
        "    return pages\n";
    testing::RunPython(
        packet_of + "with open('" + path +
        "', 'r+b') as f:\n"
        "    old = comment_pages(f)\n"
        "    packets = OggPage.to_packets(old)\n"
        "    packets[0] += b'\\x01keep me'\n"
        "    new = OggPage._from_packets_try_preserve(packets, old)\n"
        "    OggPage.replace(f, old, new)\n");
    auto before = ReadFileTags(Format(path), path);
    ASSERT_TRUE(before.ok()) << before.status().ToString();
    for (const TagSet& next : {Tags({{"mood-strict", {"happy"}}}),
                               Tags({{"mood-strict", {"sad", "calm"}}})}) {
      auto r = SafeWriteNamespace(Format(path), path, next, {});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(ReadFileTags(Format(path), path)->foreign, before->foreign);
      const std::string tail =
          testing::RunPython(packet_of + "with open('" + path +
                             "', 'rb') as f:\n"
                             "    p = OggPage.to_packets(comment_pages(f))[0]\n"
                             "    print(repr(p[-8:]))\n");
      EXPECT_EQ(tail, "b'\\x01keep me'\n");
    }
  }
}

TEST_F(SafeWriteTest, CopyStrategyNeverPatchesInPlace) {
  std::string path = PreparedForInPlace("flac");
  ino_t inode = State(path).st.st_ino;
  WriteOptions copy;
  copy.copy_only = true;
  auto r = SafeWriteNamespace(Format(path), path,
                              Tags({{"mood-strict", {"happier"}}}), copy);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kCopied);
  EXPECT_NE(State(path).st.st_ino, inode);
}

// The store carries an analysis from the stamp a write found to the one it
// left (tag_store.h SetWritten): both must be the file's, in place and by
// copy, and a write that wrote nothing reports no `before`.
TEST_F(SafeWriteTest, AWriteReportsTheFileAsItFoundAndLeftIt) {
  auto mtime_ns = [](const struct stat& st) {
    return int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  };
  for (bool copy_only : {false, true}) {
    SCOPED_TRACE(copy_only ? "by copy" : "in place");
    std::string path = PreparedForInPlace("flac");
    struct stat found = State(path).st;
    WriteOptions options;
    options.copy_only = copy_only;
    auto r = SafeWriteNamespace(Format(path), path,
                                Tags({{"mood-strict", {"happier"}}}), options);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->action, copy_only ? WriteResult::Action::kCopied
                                   : WriteResult::Action::kInPlace);
    struct stat left = State(path).st;
    EXPECT_EQ(r->before.ino, found.st_ino);
    EXPECT_EQ(r->before.size, static_cast<uint64_t>(found.st_size));
    EXPECT_EQ(r->before.mtime_ns, mtime_ns(found));
    EXPECT_EQ(r->after.ino, left.st_ino);
    EXPECT_EQ(r->after.size, static_cast<uint64_t>(left.st_size));
    EXPECT_EQ(r->after.mtime_ns, mtime_ns(left));
    auto again = SafeWriteNamespace(Format(path), path,
                                    Tags({{"mood-strict", {"happier"}}}), {});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->action, WriteResult::Action::kUnchanged);
    EXPECT_EQ(again->before.ino, 0u) << "nothing written, nothing found";
    EXPECT_EQ(again->after.ino, left.st_ino);
    fs::remove(path);
  }
}

TEST_F(SafeWriteTest, KeepsPermissionsAndOptionallyMtime) {
  std::string path = Copy("mp3", "perm");
  ::chmod(path.c_str(), 0640);
  struct timespec old_times[2] = {{1000000000, 0}, {1000000000, 123}};
  ::utimensat(AT_FDCWD, path.c_str(), old_times, 0);
  WriteOptions keep;
  keep.keep_mtime = true;
  auto r =
      SafeWriteNamespace(Format(path), path, Tags({{"bpm", {"120"}}}), keep);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  FileState s = State(path);
  EXPECT_EQ(s.st.st_mode & 07777, 0640u);
  EXPECT_EQ(s.st.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(s.st.st_mtim.tv_nsec, 123);

  auto moved =
      SafeWriteNamespace(Format(path), path, Tags({{"bpm", {"121"}}}), {});
  ASSERT_TRUE(moved.ok());
  EXPECT_GT(State(path).st.st_mtim.tv_sec, 1000000000) << "mtime moves";
}

TEST_F(SafeWriteTest, HardLinksAreNeverBrokenSilently) {
  std::string path = Copy("ogg", "linked");
  std::string other = (dir_ / "other-name.ogg").string();
  ASSERT_EQ(::link(path.c_str(), other.c_str()), 0);
  FileState before = State(path);
  WriteOptions copy;
  copy.copy_only = true;
  auto refused =
      SafeWriteNamespace(Format(path), path, Tags({{"bpm", {"120"}}}), copy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kRefused);
  EXPECT_NE(refused.status().message().find("hard links"), std::string::npos);
  EXPECT_EQ(State(path).bytes, before.bytes);

  copy.break_hardlinks = true;
  auto broken =
      SafeWriteNamespace(Format(path), path, Tags({{"bpm", {"120"}}}), copy);
  ASSERT_TRUE(broken.ok()) << broken.status().ToString();
  EXPECT_EQ(State(other).bytes, before.bytes) << "the other name kept the old";
}

TEST_F(SafeWriteTest, InPlaceWriteIsSeenThroughEveryHardLink) {
  std::string path = PreparedForInPlace("flac");
  std::string other = (dir_ / "other-name.flac").string();
  ASSERT_EQ(::link(path.c_str(), other.c_str()), 0);
  auto r = SafeWriteNamespace(Format(path), path,
                              Tags({{"mood-strict", {"happier"}}}), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->action, WriteResult::Action::kInPlace);
  EXPECT_EQ(ReadFileTags(Format(other), other)->nom.tags,
            Tags({{"mood-strict", {"happier"}}}));
}

// --- Bad input: a clear error and the file byte-identical -----------------

TEST_F(SafeWriteTest, ReadOnlyFileIsRefused) {
  std::string path = Copy("flac", "ro");
  ::chmod(path.c_str(), 0444);
  FileState before = State(path);
  auto r = SafeWriteNamespace(Format(path), path, Tags({{"a", {"1"}}}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("read-only"), std::string::npos);
  EXPECT_EQ(State(path).bytes, before.bytes);
}

TEST_F(SafeWriteTest, ReadOnlyFolderIsRefused) {
  std::string path = Copy("mp3", "in-ro-dir");
  FileState before = State(path);
  fs::permissions(
      dir_,
      fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
      fs::perm_options::remove);
  auto r = SafeWriteNamespace(Format(path), path, Tags({{"a", {"1"}}}), {});
  fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("folder is read-only"),
            std::string::npos);
  EXPECT_EQ(State(path).bytes, before.bytes);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

TEST_F(SafeWriteTest, VanishedFileIsNotFound) {
  std::string path = (dir_ / "gone.mp3").string();
  auto r = SafeWriteNamespace(Format(path), path, Tags({{"a", {"1"}}}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
}

TEST_F(SafeWriteTest, WrongExtensionIsAClearError) {
  std::string path = (dir_ / "really-flac.mp3").string();
  fs::copy_file(MediaFile("flac"), path);
  FileState before = State(path);
  auto r = SafeWriteNamespace(Format(path), path, Tags({{"a", {"1"}}}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.status().message().empty());
  EXPECT_EQ(State(path).bytes, before.bytes);
}

// A plugin table that, while building, lets "someone else" change the file
// on disk: the commit must notice and leave the file to them.
const nomtag_format* real_table = nullptr;
std::string tamper_path;
nomtag_status TamperingWrite(const nomtag_stream* s, const nomtag_tag* t,
                             size_t n, const nomtag_write_options* o,
                             nomtag_error* e) {
  std::ofstream(tamper_path, std::ios::app) << "x";
  return real_table->write_namespace(s, t, n, o, e);
}

TEST_F(SafeWriteTest, FileChangedBetweenReadAndCommitIsNotWritten) {
  std::string path = Copy("flac", "raced");
  const FormatPlugin& real = Format(path);
  static nomtag_format table;
  // Rebuild a table around the real one (the registry keeps it loaded).
  for (const auto& lib : Registry().plugins())
    if (lib->id() == real.plugin_id())
      real_table = static_cast<const nomtag_format*>(
          lib->GetInterface(NOMTAG_FORMAT_INTERFACE_ID));
  ASSERT_NE(real_table, nullptr);
  table = *real_table;
  table.write_namespace = TamperingWrite;
  // A table as from before ABI 1.6, so the host calls write_namespace.
  table.struct_size = offsetof(nomtag_format, self);
  FormatPlugin tampering("test.tamper", &table, nullptr);
  tamper_path = path;
  auto r = SafeWriteNamespace(tampering, path, Tags({{"a", {"1"}}}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kConflict)
      << r.status().ToString();
  std::vector<uint8_t> expect = ReadBytes(MediaFile("flac"));
  expect.push_back('x');
  EXPECT_EQ(ReadBytes(path), expect) << "the other writer's change stays";
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

// --- Failure at every step leaves the original intact ---------------------

TEST_F(SafeWriteTest, FailureAtAnyStepLeavesTheOriginalIntact) {
  struct Case {
    const char* step;
    bool copy;
  };
  const Case cases[] = {
      {"open", false},          {"snapshot", false},
      {"build", false},         {"verify", false},
      {"identity", false},      {"journal-write", false},
      {"journal-fsync", false}, {"patch-write", false},
      {"patch-fsync", false},   {"temp-create", true},
      {"temp-write", true},     {"temp-fsync", true},
      {"identity", true},       {"rename", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.step) + (c.copy ? " (copy)" : " (in place)"));
    std::string path = PreparedForInPlace("flac");
    FileState before = State(path);
    WriteOptions opts;
    opts.copy_only = c.copy;
    ::setenv("NOMTAG_TEST_FAIL_AT", c.step, 1);
    auto r = SafeWriteNamespace(Format(path), path,
                                Tags({{"mood-strict", {"happier"}}}), opts);
    ::unsetenv("NOMTAG_TEST_FAIL_AT");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find(c.step), std::string::npos)
        << r.status().ToString();
    EXPECT_EQ(State(path).bytes, before.bytes);
    EXPECT_TRUE(Sidecars(dir_.string()).empty());
    fs::remove(path);
  }
}

// --- A crash at every point: old or new bytes, and recovery converges -----

TEST_F(SafeWriteTest, CrashAtAnyPointLeavesOldOrNewAndRecoveryConverges) {
  const char* points[] = {"after-journal", "between-range-writes",
                          "before-journal-remove", "after-temp-written",
                          "after-rename"};
  TagSet next = Tags({{"mood-strict", {"happier"}}, {"extra", {"value"}}});
  for (const char* point : points) {
    SCOPED_TRACE(point);
    std::string path = PreparedForInPlace("flac");
    std::vector<uint8_t> old_bytes = ReadBytes(path);
    bool copy = std::string(point).find("temp") != std::string::npos ||
                std::string(point) == "after-rename";
    pid_t child = ::fork();
    if (child == 0) {
      ::setenv("NOMTAG_TEST_CRASH_AT", point, 1);
      WriteOptions opts;
      opts.copy_only = copy;
      auto r = SafeWriteNamespace(Format(path), path, next, opts);
      ::_exit(r.ok() ? 0 : 1);  // reaching here means no crash happened
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 86) << "the crash point was not reached";

    std::vector<uint8_t> crashed = ReadBytes(path);
    RecoveryReport report;
    ASSERT_TRUE(RecoverFile(path, &report).ok());
    EXPECT_TRUE(Sidecars(dir_.string()).empty());
    std::vector<uint8_t> recovered = ReadBytes(path);
    bool is_old = recovered == old_bytes;
    bool is_new = ReadFileTags(Format(path), path)->nom.tags == next;
    EXPECT_TRUE(is_old || is_new);
    if (std::string(point) == "after-rename") {
      EXPECT_TRUE(is_new);
    }
    if (std::string(point) == "before-journal-remove") {
      // Every new byte was durable: nothing to undo.
      EXPECT_EQ(report.completed, 1);
      EXPECT_EQ(report.rolled_back, 0);
    }
    if (report.rolled_back > 0) {
      EXPECT_TRUE(is_old);
    }
    if (report.completed > 0) {
      EXPECT_TRUE(is_new);
      EXPECT_EQ(recovered, crashed) << "the finished write is left alone";
    }

    auto rerun = SafeWriteNamespace(Format(path), path, next, {});
    ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
    EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags, next);
    fs::remove(path);
  }
}

// The per-write check reconciliation uses (one stat) resolves a journal
// just as the full per-file recovery does.
TEST_F(SafeWriteTest, CheapJournalCheckRollsBackToo) {
  std::string path = PreparedForInPlace("flac");
  std::vector<uint8_t> old_bytes = ReadBytes(path);
  ASSERT_EQ(WriteDyingAt("between-range-writes", path,
                         Tags({{"mood-strict", {"happier"}}})),
            86);
  RecoveryReport report;
  ASSERT_TRUE(RecoverJournal(path, &report).ok());
  EXPECT_EQ(report.rolled_back, 1);
  EXPECT_EQ(ReadBytes(path), old_bytes);
  EXPECT_FALSE(fs::exists(JournalPathFor(path)));
  RecoveryReport nothing;
  EXPECT_TRUE(RecoverJournal(path, &nothing).ok());
  EXPECT_EQ(nothing.rolled_back, 0);
}

// After a crash, another program may write the file before nomtag runs
// again (most likely when a power cut brought back the journal of a write
// that had finished). Rolling back would then undo that program's write:
// the file is left alone, the journal kept, and the user told.
TEST_F(SafeWriteTest,
       AFileWrittenByAnotherProgramSinceTheCrashIsNotRolledBack) {
  std::string path = PreparedForInPlace("flac");
  std::vector<uint8_t> old_bytes = ReadBytes(path);
  ASSERT_EQ(WriteDyingAt("between-range-writes", path,
                         Tags({{"mood-strict", {"happier"}}})),
            86);
  bool torn = true;
  auto journal = ReadJournal(JournalPathFor(path), &torn);
  ASSERT_TRUE(journal.ok() && !torn && journal->size() == 1);
  ASSERT_FALSE(journal->front().written.empty());
  const Journal::Extent& e = journal->front().written.back();
  // Somebody else's byte where nomtag would put one: neither old nor new.
  std::vector<uint8_t> theirs = ReadBytes(path);
  uint8_t b = 'A';
  while (b == e.bytes[0] || b == old_bytes[e.offset]) ++b;
  theirs[e.offset] = b;
  testing::WriteBytes(path, theirs);

  RecoveryReport report;
  Status s = RecoverJournal(path, &report);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("something else"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(report.rolled_back, 0);
  EXPECT_EQ(ReadBytes(path), theirs) << "their write is not undone";
  EXPECT_TRUE(fs::exists(JournalPathFor(path))) << "kept for the user";

  // A file that got shorter is not what an interrupted write leaves either.
  theirs.resize(old_bytes.size() - 1);
  testing::WriteBytes(path, theirs);
  EXPECT_FALSE(RecoverJournal(path, &report).ok());
  EXPECT_EQ(ReadBytes(path), theirs);
}

// A write in place does not fsync the directory after removing its
// journal, so a power cut can bring the journal back after the write
// finished and the database recorded it. Recovery must then keep the new
// version, not roll the file back behind the database's back.
TEST_F(SafeWriteTest, AJournalThatOutlivedItsFinishedWriteKeepsTheNewVersion) {
  std::string path = PreparedForInPlace("flac");
  const std::vector<uint8_t> old_bytes = ReadBytes(path);
  // The journal as it was just before the write removed it.
  ASSERT_EQ(WriteDyingAt("before-journal-remove", path,
                         Tags({{"mood-strict", {"sadder"}}})),
            86);
  const std::vector<uint8_t> journal = ReadBytes(JournalPathFor(path));
  const std::vector<uint8_t> finished = ReadBytes(path);

  RecoveryReport report;
  ASSERT_TRUE(RecoverJournal(path, &report).ok());
  EXPECT_EQ(report.completed, 1);
  EXPECT_EQ(report.rolled_back, 0);
  EXPECT_EQ(ReadBytes(path), finished);
  EXPECT_EQ(ReadFileTags(Format(path), path)->nom.tags,
            Tags({{"mood-strict", {"sadder"}}}));
  EXPECT_FALSE(fs::exists(JournalPathFor(path)));

  // The same journal beside the file with one new byte missing (a write
  // cut short) rolls it back instead.
  ASSERT_EQ(finished.size(), old_bytes.size());
  size_t changed = 0;
  while (changed < finished.size() && finished[changed] == old_bytes[changed])
    ++changed;
  ASSERT_LT(changed, finished.size());
  std::vector<uint8_t> partly = finished;
  partly[changed] = old_bytes[changed];
  testing::WriteBytes(path, partly);
  testing::WriteBytes(JournalPathFor(path), journal);
  RecoveryReport undo;
  ASSERT_TRUE(RecoverJournal(path, &undo).ok());
  EXPECT_EQ(undo.rolled_back, 1);
  EXPECT_EQ(undo.completed, 0);
  EXPECT_EQ(ReadBytes(path), old_bytes);

  // A journal of the first format (NOMTAGJ1: no extents, no digest) left
  // by an older nomtag cannot tell a finished write: it rolls back.
  bool torn = true;
  testing::WriteBytes(JournalPathFor(path), journal);
  auto parsed = ReadJournal(JournalPathFor(path), &torn);
  ASSERT_TRUE(parsed.ok() && !torn && parsed->size() == 1);
  size_t tail = 8 + 32;  // the extents' count, and the checksum
  for (const auto& e : parsed->front().written) tail += 16 + e.bytes.size();
  std::string v1(journal.begin() + 8, journal.end() - tail);
  v1 = "NOMTAGJ1" + v1;
  v1 += Sha256(v1);
  testing::WriteBytes(JournalPathFor(path),
                      std::vector<uint8_t>(v1.begin(), v1.end()));
  testing::WriteBytes(path, finished);
  RecoveryReport old_journal;
  ASSERT_TRUE(RecoverJournal(path, &old_journal).ok());
  EXPECT_EQ(old_journal.rolled_back, 1);
  EXPECT_EQ(ReadBytes(path), old_bytes);
}

TEST_F(SafeWriteTest, TornJournalIsDiscardedAndTheFileLeftAlone) {
  std::string path = Copy("flac", "torn");
  std::vector<uint8_t> bytes = ReadBytes(path);
  std::ofstream(JournalPathFor(path)) << "NOMTAGJ1 and then the power went";
  RecoveryReport report;
  ASSERT_TRUE(RecoverFile(path, &report).ok());
  EXPECT_EQ(report.torn_discarded, 1);
  EXPECT_EQ(ReadBytes(path), bytes);
  EXPECT_TRUE(Sidecars(dir_.string()).empty());
}

TEST_F(SafeWriteTest, JournalOfAReplacedFileIsReportedAndTheFileLeft) {
  std::string path = PreparedForInPlace("flac");
  pid_t child = ::fork();
  if (child == 0) {
    ::setenv("NOMTAG_TEST_CRASH_AT", "between-range-writes", 1);
    SafeWriteNamespace(Format(path), path, Tags({{"mood-strict", {"happier"}}}),
                       {});
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 86);
  // Someone replaces the file with another one (new inode).
  std::string replacement = (dir_ / "replacement.tmp").string();
  fs::copy_file(MediaFile("flac"), replacement);
  fs::rename(replacement, path);
  std::vector<uint8_t> theirs = ReadBytes(path);
  RecoveryReport report;
  Status s = RecoverFile(path, &report);
  EXPECT_EQ(s.code(), Status::Code::kConflict) << s.ToString();
  EXPECT_EQ(ReadBytes(path), theirs) << "their file is not touched";
  EXPECT_TRUE(fs::exists(JournalPathFor(path))) << "evidence is kept";
  ASSERT_EQ(report.problems.size(), 1u);
}

TEST_F(SafeWriteTest, StaleTemporaryFilesOfDeadProcessesAreRemoved) {
  std::string path = Copy("mp3", "stale");
  // A pid that cannot be alive.
  std::string stale = (dir_ / ".stale.mp3.nomtag-tmp-999999999-0").string();
  std::ofstream(stale) << "half a copy";
  RecoveryReport report;
  ASSERT_TRUE(RecoverTree(dir_.string(), &report).ok());
  EXPECT_EQ(report.temps_removed, 1);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(path));
}

// `tags write` of many files settles each named file's leftovers, and
// only theirs, folder by folder: a leftover of a file not named stays.
TEST_F(SafeWriteTest, RecoverFilesSettlesTheNamedFilesLeftoversOnly) {
  fs::create_directories(dir_ / "b");
  const std::string a = Copy("mp3", "a");
  const std::string other = Copy("mp3", "other");
  const std::string b = (dir_ / "b" / "b.mp3").string();
  fs::copy_file(a, b);
  const std::string stale_a = (dir_ / ".a.mp3.nomtag-tmp-999999999-0").string();
  const std::string stale_b =
      (dir_ / "b" / ".b.mp3.nomtag-tmp-999999999-0").string();
  const std::string stale_other =
      (dir_ / ".other.mp3.nomtag-tmp-999999999-0").string();
  for (const auto& p : {stale_a, stale_b, stale_other})
    std::ofstream(p) << "half a copy";
  const std::string gone = (dir_ / "gone" / "x.mp3").string();

  RecoveryReport report;
  const std::vector<Status> got = RecoverFiles({a, b, gone}, &report);
  ASSERT_EQ(got.size(), 3u);
  for (const Status& s : got) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(report.temps_removed, 2);
  EXPECT_FALSE(fs::exists(stale_a));
  EXPECT_FALSE(fs::exists(stale_b));
  EXPECT_TRUE(fs::exists(stale_other)) << "not named, not touched";
}

// Random kill -9 of a writing process, many times: never a broken file.
TEST_F(SafeWriteTest, RandomKillsNeverLeaveAHalfWrittenFile) {
  std::mt19937 rng(20261124);
  for (int trial = 0; trial < 25; ++trial) {
    std::string path = PreparedForInPlace(trial % 2 ? "flac" : "mp3");
    std::vector<uint8_t> old_bytes = ReadBytes(path);
    TagSet next = Tags({{"mood-strict", {"sad"}},
                        {"trial", {std::string(trial * 100, 'x') + "!"}}});
    pid_t child = ::fork();
    if (child == 0) {
      WriteOptions opts;
      opts.copy_only = trial % 3 == 0;
      SafeWriteNamespace(Format(path), path, next, opts);
      ::_exit(0);
    }
    ::usleep(rng() % 20000);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    RecoveryReport report;
    ASSERT_TRUE(RecoverFile(path, &report).ok());
    EXPECT_TRUE(Sidecars(dir_.string()).empty()) << "trial " << trial;
    auto tags = ReadFileTags(Format(path), path);
    ASSERT_TRUE(tags.ok()) << "trial " << trial << ": "
                           << tags.status().ToString();
    EXPECT_TRUE(ReadBytes(path) == old_bytes || tags->nom.tags == next)
        << "trial " << trial;
    auto rerun = SafeWriteNamespace(Format(path), path, next, {});
    ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
    fs::remove(path);
  }
}

}  // namespace
}  // namespace nomtag
