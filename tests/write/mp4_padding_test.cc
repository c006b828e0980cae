// MP4 padding through the safe write, on real files: a write that moves
// the audio of a faststart file (moov before mdat) leaves the room the
// host asked for after ilst, so that the next write, even one that grows
// the tags, fits in place. The layout is checked with an independent atom
// walker (mutagen), the audio with ffmpeg.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "formats/media_fixtures.h"
#include "write/safe_write.h"
#include "write/write_test_support.h"

namespace nomtag {
namespace {

namespace fs = std::filesystem;
using testing::FfmpegAudioHash;
using testing::MediaFile;
using testing::RunPython;

using testing::Format;
using testing::Tags;

ino_t Inode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_ino;
}

// What mutagen's atom walker sees: whether moov precedes mdat, where mdat
// is, whether moov has a 64-bit size, how many co64 tables there are,
// whether udta precedes the tracks, the length of ilst and the body of the
// free atom right after it (0 when none follows it).
struct Layout {
  bool moov_first = false;
  uint64_t mdat = 0;
  bool moov_wide = false;
  uint64_t co64 = 0;
  bool udta_first = false;
  uint64_t ilst = 0;
  uint64_t free_after_ilst = 0;
};

Layout ReadLayout(const std::string& path) {
  std::istringstream out(RunPython(
      "from mutagen.mp4 import Atoms\n"
      "with open('" +
      path +
      "', 'rb') as f:\n"
      "    atoms = Atoms(f)\n"
      "names = [a.name for a in atoms.atoms]\n"
      "moov = atoms[b'moov']\n"
      "print('moov_first', int(names.index(b'moov') < names.index(b'mdat')))\n"
      "print('mdat', atoms[b'mdat'].offset)\n"
      "print('moov_wide', int(moov.datalength == moov.length - 16))\n"
      "print('co64', len(list(moov.findall(b'co64', True))))\n"
      "kinds = [c.name for c in moov.children]\n"
      "print('udta_first', int(kinds.index(b'udta') < kinds.index(b'trak')))\n"
      "kids = atoms[b'moov.udta.meta'].children\n"
      "i = [k.name for k in kids].index(b'ilst')\n"
      "print('ilst', kids[i].length)\n"
      "after = kids[i + 1] if i + 1 < len(kids) else None\n"
      "free = after is not None and after.name == b'free'\n"
      "print('free_after_ilst', after.datalength if free else 0)\n"));
  std::map<std::string, uint64_t> v;
  std::string key;
  uint64_t value;
  while (out >> key >> value) v[key] = value;
  Layout l;
  l.moov_first = v.at("moov_first") != 0;
  l.mdat = v.at("mdat");
  l.moov_wide = v.at("moov_wide") != 0;
  l.co64 = v.at("co64");
  l.udta_first = v.at("udta_first") != 0;
  l.ilst = v.at("ilst");
  l.free_after_ilst = v.at("free_after_ilst");
  return l;
}

// TagLib 1.13 follows a grown ilst with a free atom that rounds it up to
// the next KiB.
bool HasTaglibsPadding(const Layout& l) {
  return l.free_after_ilst < 1024 && (l.ilst + l.free_after_ilst) % 1024 == 0;
}

// The nom keys as mutagen reads them: "key=value|value" lines, sorted.
std::string MutagenNom(const std::string& path) {
  return RunPython(
      "from mutagen.mp4 import MP4\n"
      "tags = MP4('" +
      path +
      "').tags\n"
      "prefix = '----:com.apple.iTunes:nom.'\n"
      "for k in sorted(tags.keys()):\n"
      "    if k.startswith(prefix):\n"
      "        values = [bytes(v).decode() for v in tags[k]]\n"
      "        print(k[len(prefix):] + '=' + '|'.join(values))\n");
}

std::string Lines(const TagSet& tags) {
  std::string out;
  for (const auto& [key, values] : tags) {
    out += key + "=";
    for (size_t i = 0; i < values.size(); ++i)
      out += (i ? "|" : "") + values[i];
    out += "\n";
  }
  return out;
}

// About 2 KiB more than a single short key.
TagSet Grown() {
  return Tags({{"mood-strict", {"happy"}},
               {"mood-regular", {std::string(500, 'a')}},
               {"genre-rosamerica", {std::string(500, 'b')}},
               {"genre-dortmund", {std::string(500, 'c')}},
               {"voice-instrumental", {std::string(500, 'd')}}});
}

WriteOptions Padding(uint32_t bytes) {
  WriteOptions o;
  o.padding = bytes;
  return o;
}

class Mp4PaddingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / testing::TestFolderName("nomtag-mp4pad");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The fixture's M4A (moov after mdat, as ffmpeg writes it by default).
  std::string Copy(const std::string& name) {
    std::string path = (dir_ / (name + ".m4a")).string();
    fs::copy_file(MediaFile("m4a"), path);
    return path;
  }
  // The same audio with moov moved before mdat, as for streaming.
  std::string Faststart(const std::string& name) {
    std::string path = (dir_ / (name + ".m4a")).string();
    RunPython(
        "import subprocess\nsubprocess.run(['ffmpeg', '-loglevel', "
        "'error', '-nostdin', '-y', '-i', '" +
        MediaFile("m4a") + "', '-map', '0', '-c', 'copy', '-movflags', " +
        "'+faststart', '" + path + "'], check=True)\n");
    return path;
  }
  fs::path dir_;
};

// The first write has to move the audio; it leaves 8 KiB after ilst, and
// a second write that grows the tags by about 2 KiB is patched in place.
TEST_F(Mp4PaddingTest, FaststartFileKeepsTheAskedRoomAfterIlst) {
  std::string path = Faststart("faststart");
  const Layout original = ReadLayout(path);
  ASSERT_TRUE(original.moov_first) << "not faststart";
  ASSERT_LT(original.free_after_ilst, 8192u);
  auto before = ReadFileTags(Format(path), path);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const std::string audio = FfmpegAudioHash(path);

  const TagSet first = Tags({{"mood-strict", {"happy"}}});
  auto r = SafeWriteNamespace(Format(path), path, first, Padding(8192));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kCopied);
  const Layout padded = ReadLayout(path);
  EXPECT_TRUE(padded.moov_first);
  EXPECT_GT(padded.mdat, original.mdat) << "the audio moved";
  EXPECT_GE(padded.free_after_ilst, 8192u);
  EXPECT_EQ(MutagenNom(path), Lines(first));
  auto after = ReadFileTags(Format(path), path);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->nom.tags, first);
  EXPECT_EQ(after->foreign, before->foreign);
  EXPECT_EQ(FfmpegAudioHash(path), audio) << "ffmpeg sees other audio";

  const ino_t inode = Inode(path);
  auto grown = SafeWriteNamespace(Format(path), path, Grown(), Padding(8192));
  ASSERT_TRUE(grown.ok()) << grown.status().ToString();
  EXPECT_EQ(grown->action, WriteResult::Action::kInPlace);
  EXPECT_EQ(Inode(path), inode);
  const Layout used = ReadLayout(path);
  EXPECT_EQ(used.mdat, padded.mdat);
  EXPECT_GT(used.ilst, padded.ilst + 2000);
  EXPECT_EQ(used.ilst + used.free_after_ilst,
            padded.ilst + padded.free_after_ilst);
  EXPECT_EQ(MutagenNom(path), Lines(Grown()));
  auto last = ReadFileTags(Format(path), path);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->nom.tags, Grown());
  EXPECT_EQ(last->foreign, before->foreign);
  EXPECT_EQ(FfmpegAudioHash(path), audio);
}

// Padding 0 is the plugin's default: TagLib's KiB rounding, which a 2 KiB
// growth outgrows.
TEST_F(Mp4PaddingTest, ZeroPaddingKeepsTaglibsDefault) {
  std::string path = Faststart("default");
  const Layout original = ReadLayout(path);
  ASSERT_TRUE(original.moov_first) << "not faststart";
  const std::string audio = FfmpegAudioHash(path);

  auto r = SafeWriteNamespace(Format(path), path,
                              Tags({{"mood-strict", {"happy"}}}), Padding(0));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kCopied);
  const Layout saved = ReadLayout(path);
  EXPECT_GT(saved.mdat, original.mdat);
  EXPECT_TRUE(HasTaglibsPadding(saved))
      << "ilst " << saved.ilst << ", free " << saved.free_after_ilst;

  auto grown = SafeWriteNamespace(Format(path), path, Grown(), Padding(0));
  ASSERT_TRUE(grown.ok()) << grown.status().ToString();
  EXPECT_EQ(grown->action, WriteResult::Action::kCopied);
  EXPECT_EQ(MutagenNom(path), Lines(Grown()));
  EXPECT_EQ(FfmpegAudioHash(path), audio);
}

// When moov follows mdat (and udta ends it, as ffmpeg writes it) TagLib
// grows the file at its end: the audio stays put and the write is in
// place, so no padding is added.
TEST_F(Mp4PaddingTest, MoovAfterMdatIsSavedAsTaglibDoes) {
  std::string path = Copy("moov-last");
  const Layout original = ReadLayout(path);
  ASSERT_FALSE(original.moov_first);
  auto before = ReadFileTags(Format(path), path);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const std::string audio = FfmpegAudioHash(path);

  // More than the free atom mutagen left, so moov has to grow.
  const TagSet big = Tags({{"mood-strict", {std::string(5000, 'x')}}});
  auto r = SafeWriteNamespace(Format(path), path, big, Padding(8192));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kInPlace)
      << "only the end of the file grew";
  const Layout saved = ReadLayout(path);
  EXPECT_FALSE(saved.moov_first);
  EXPECT_EQ(saved.mdat, original.mdat);
  EXPECT_GT(saved.ilst, original.ilst + original.free_after_ilst);
  EXPECT_TRUE(HasTaglibsPadding(saved))
      << "ilst " << saved.ilst << ", free " << saved.free_after_ilst;
  EXPECT_EQ(MutagenNom(path), Lines(big));
  auto after = ReadFileTags(Format(path), path);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->nom.tags, big);
  EXPECT_EQ(after->foreign, before->foreign);
  EXPECT_EQ(FfmpegAudioHash(path), audio);
}

// 64-bit chunk offsets (co64) and a moov with a 64-bit size, as large
// files have them, are patched as well, and so are tables that the
// padding moves because udta comes before the tracks.
TEST_F(Mp4PaddingTest, Co64WideMoovAndUdtaFirstArePatched) {
  std::string path = Faststart("wide");
  const std::string audio = FfmpegAudioHash(path);
  // Rebuilds moov with udta first, every stco widened to co64 and a
  // 64-bit size, moving the chunk offsets by what moov grew.
  RunPython(
      "import struct\n"
      "P = '" +
      path +
      "'\n"
      "CONT = {b'moov', b'trak', b'mdia', b'minf', b'stbl'}\n"
      "def parse(buf):\n"
      "    out, at = [], 0\n"
      "    while at + 8 <= len(buf):\n"
      "        size, name = struct.unpack('>I4s', buf[at:at + 8]); hdr = 8\n"
      "        if size == 1:\n"
      "            size, = struct.unpack('>Q', buf[at + 8:at + 16]); hdr = 16\n"
      "        body = buf[at + hdr:at + size]\n"
      "        out.append([name, parse(body) if name in CONT else body])\n"
      "        at += size\n"
      "    return out\n"
      "def render(name, body, wide=False):\n"
      "    if isinstance(body, list):\n"
      "        body = b''.join(render(n, b) for n, b in body)\n"
      "    if wide:\n"
      "        return struct.pack('>I4sQ', 1, name, 16 + len(body)) + body\n"
      "    return struct.pack('>I4s', 8 + len(body), name) + body\n"
      "def tables(atoms):\n"
      "    for a in atoms:\n"
      "        if a[0] == b'stco': yield a\n"
      "        elif isinstance(a[1], list): yield from tables(a[1])\n"
      "top = parse(open(P, 'rb').read())\n"
      "moov = next(a for a in top if a[0] == b'moov')\n"
      "udta = [a for a in moov[1] if a[0] == b'udta']\n"
      "rest = [a for a in moov[1] if a[0] != b'udta']\n"
      "moov[1] = rest[:1] + udta + rest[1:]\n"
      "old = len(render(*moov))\n"
      "convs = []\n"
      "for t in list(tables(moov[1])):\n"
      "    n, = struct.unpack('>I', t[1][4:8])\n"
      "    convs.append((t, t[1][:8], struct.unpack('>%dI' % n, "
      "t[1][8:8 + 4 * n])))\n"
      "def fill(delta):\n"
      "    for t, head, offs in convs:\n"
      "        t[0] = b'co64'\n"
      "        t[1] = head + b''.join(struct.pack('>Q', o + delta) for o in "
      "offs)\n"
      "fill(0)\n"
      "fill(len(render(moov[0], moov[1], True)) - old)\n"
      "open(P, 'wb').write(b''.join(render(n, b, n == b'moov') for n, b in "
      "top))\n");
  const Layout original = ReadLayout(path);
  ASSERT_TRUE(original.moov_first);
  ASSERT_TRUE(original.moov_wide);
  ASSERT_GE(original.co64, 1u);
  ASSERT_TRUE(original.udta_first);
  ASSERT_EQ(FfmpegAudioHash(path), audio) << "the rebuilt file is wrong";
  auto before = ReadFileTags(Format(path), path);
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  const TagSet first = Tags({{"mood-strict", {"happy"}}});
  auto r = SafeWriteNamespace(Format(path), path, first, Padding(8192));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->action, WriteResult::Action::kCopied);
  const Layout padded = ReadLayout(path);
  EXPECT_TRUE(padded.moov_wide);
  EXPECT_GE(padded.free_after_ilst, 8192u);
  EXPECT_EQ(MutagenNom(path), Lines(first));
  EXPECT_EQ(ReadFileTags(Format(path), path)->foreign, before->foreign);
  EXPECT_EQ(FfmpegAudioHash(path), audio);

  auto grown = SafeWriteNamespace(Format(path), path, Grown(), Padding(8192));
  ASSERT_TRUE(grown.ok()) << grown.status().ToString();
  EXPECT_EQ(grown->action, WriteResult::Action::kInPlace);
  EXPECT_EQ(MutagenNom(path), Lines(Grown()));
  EXPECT_EQ(FfmpegAudioHash(path), audio);
}

}  // namespace
}  // namespace nomtag
