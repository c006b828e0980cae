// Container-specific behaviour users rely on: ID3v2 versions and trailers,
// what TagLib 1.13 cannot round-trip (refused, never silently changed),
// and malformed requests.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "format_under_test.h"
#include "media_fixtures.h"
#include "support/memory_stream.h"

namespace nomtag::testing {
namespace {

const TagSet kTags = {{"mood-strict", {"happy", "party"}}, {"bpm", {"120"}}};

std::string Copy(const std::string& kind, const std::string& ext) {
  std::string path = ScratchPath(ext);
  WriteBytes(path, ReadBytes(MediaFile(kind)));
  return path;
}

std::string Q(const std::string& path) { return "'" + path + "'"; }

// A write that TagLib cannot do faithfully must be refused; one that goes
// through must leave everything foreign as it was. Returns whether it was
// refused.
bool RefusedOrFaithful(const FormatPlugin& plugin, const std::string& path) {
  std::vector<uint8_t> bytes = ReadBytes(path);
  FileView before = View(plugin, bytes);
  EXPECT_TRUE(before.status.ok()) << before.status.ToString();
  auto written = Write(plugin, bytes, kTags);
  if (!written.ok()) {
    EXPECT_EQ(written.status().code(), Status::Code::kRefused)
        << written.status().ToString();
    std::cout << written.status().message() << "\n";
    return true;
  }
  FileView after = View(plugin, *written);
  EXPECT_EQ(after.ns.tags, kTags);
  EXPECT_EQ(after.foreign, before.foreign);
  EXPECT_TRUE(after.payload == before.payload);
  return false;
}

TEST(Mp3Format, Id3v23StaysId3v23) {
  const FormatPlugin* mp3 = LoadedFormat("mp3");
  ASSERT_NE(mp3, nullptr);
  auto written = Write(*mp3, ReadBytes(MediaFile("mp3-v23")), kTags);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_GT(written->size(), 4u);
  EXPECT_EQ((*written)[3], 3) << "ID3v2 major version";
  std::string out = ScratchPath("mp3");
  WriteBytes(out, *written);
  EXPECT_EQ(RunPython("from mutagen.id3 import ID3\n"
                      "t = ID3(" +
                      Q(out) +
                      ", translate=False)\n"
                      "print(t.version[1], t.getall('TYER')[0].text[0])\n"),
            "3 2020\n");
}

TEST(Mp3Format, FileWithoutTagsGetsId3v24AndNoId3v1) {
  const FormatPlugin* mp3 = LoadedFormat("mp3");
  ASSERT_NE(mp3, nullptr);
  std::string bare = ScratchPath("mp3");
  RunPython(
      "import subprocess\nsubprocess.run(['ffmpeg', '-loglevel', "
      "'error', '-y', '-i', " +
      Q(MediaFile("mp3")) +
      ", '-map', '0:a', '-c', 'copy', '-map_metadata', '-1', "
      "'-id3v2_version', '0', '-write_xing', '0', " +
      Q(bare) + "], check=True)\n");
  std::vector<uint8_t> bytes = ReadBytes(bare);
  ASSERT_FALSE(bytes.size() > 3 && bytes[0] == 'I' && bytes[1] == 'D');
  FileView before = View(*mp3, bytes);
  ASSERT_TRUE(before.status.ok()) << before.status.ToString();
  EXPECT_TRUE(before.foreign.empty());
  auto written = Write(*mp3, bytes, kTags);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(std::string(written->begin(), written->begin() + 4), "ID3\x04");
  EXPECT_NE(std::string(written->end() - 128, written->end() - 125), "TAG");
  FileView after = View(*mp3, *written);
  EXPECT_EQ(after.ns.tags, kTags);
  EXPECT_TRUE(after.foreign.empty());
  EXPECT_TRUE(after.payload == before.payload);
}

TEST(Mp3Format, Id3v1TrailerIsKeptByteForByte) {
  const FormatPlugin* mp3 = LoadedFormat("mp3");
  ASSERT_NE(mp3, nullptr);
  std::string with_v1 = ScratchPath("mp3");
  RunPython(
      "import subprocess\nsubprocess.run(['ffmpeg', '-loglevel', "
      "'error', '-y', '-i', " +
      Q(MediaFile("mp3")) +
      ", '-c', 'copy', '-map', '0', '-write_id3v1', '1', " + Q(with_v1) +
      "], check=True)\n");
  std::vector<uint8_t> bytes = ReadBytes(with_v1);
  ASSERT_EQ(std::string(bytes.end() - 128, bytes.end() - 125), "TAG");
  FileView before = View(*mp3, bytes);
  ASSERT_TRUE(before.status.ok()) << before.status.ToString();
  auto written = Write(*mp3, bytes, kTags);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_TRUE(std::equal(bytes.end() - 128, bytes.end(), written->end() - 128));
  EXPECT_NE(std::string(written->end() - 256, written->end() - 253), "TAG");
  EXPECT_EQ(View(*mp3, *written).foreign, before.foreign);
}

// TagLib converts v2.3 dates to TDRC on read and back on a v2.3 save.
TEST(Mp3Format, Id3v23DateFramesAreKeptOrTheWriteRefused) {
  const FormatPlugin* mp3 = LoadedFormat("mp3");
  ASSERT_NE(mp3, nullptr);
  std::string path = Copy("mp3-v23", "mp3");
  RunPython(
      "from mutagen.id3 import ID3, TDAT, TIME\n"
      "t = ID3(" +
      Q(path) +
      ", translate=False)\n"
      "t.add(TDAT(encoding=0, text='2412'))\n"
      "t.add(TIME(encoding=0, text='1230'))\n"
      "t.save(v2_version=3)\n");
  const bool refused = RefusedOrFaithful(*mp3, path);
  EXPECT_FALSE(refused) << "the splice writes 2.3 date frames (issue 18)";
  RecordProperty("refused", refused ? "yes" : "no");
  std::cout << "ID3v2.3 TYER+TDAT+TIME: "
            << (refused ? "write refused" : "round-trips") << "\n";
}

// mutagen saves v2.4's TDRC into a v2.3 tag; TagLib's save turned it into
// TYER. The splice keeps the frame's bytes as they are.
TEST(Mp3Format, Id3v24OnlyFrameInV23TagIsKeptByteForByte) {
  const FormatPlugin* mp3 = LoadedFormat("mp3");
  ASSERT_NE(mp3, nullptr);
  std::string path = Copy("mp3-v23", "mp3");
  RunPython(
      "from mutagen.id3 import ID3\n"
      "t = ID3(" +
      Q(path) +
      ")\n"
      "t.save(v2_version=3)\n");
  std::vector<uint8_t> bytes = ReadBytes(path);
  const std::string tdrc = "TDRC";
  auto at = std::search(bytes.begin(), bytes.end(), tdrc.begin(), tdrc.end());
  ASSERT_NE(at, bytes.end()) << "mutagen wrote no TDRC";
  const size_t len =
      10 + ((at[4] << 24) | (at[5] << 16) | (at[6] << 8) | at[7]);
  const std::vector<uint8_t> frame(at, at + len);
  FileView before = View(*mp3, bytes);
  auto written = Write(*mp3, bytes, kTags);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ((*written)[3], 3) << "ID3v2 major version";
  EXPECT_NE(
      std::search(written->begin(), written->end(), frame.begin(), frame.end()),
      written->end())
      << "the TDRC frame's bytes changed";
  FileView after = View(*mp3, *written);
  EXPECT_EQ(after.ns.tags, kTags);
  EXPECT_EQ(after.foreign, before.foreign);
}

// TagLib 1.13 has no padding option; the plugins add the requested padding
// when the audio moved anyway.
TEST(Mp3Format, RequestedPaddingIsLeftWhenTheAudioMoves) {
  const FormatPlugin* mp3 = LoadedFormat("mp3");
  ASSERT_NE(mp3, nullptr);
  std::vector<uint8_t> bytes = ReadBytes(MediaFile("mp3"));
  FileView before = View(*mp3, bytes);
  MemoryStream mem(bytes, "padding");
  ASSERT_TRUE(mp3->WriteNamespace(mem.stream(), kTags, 8192).ok());
  const std::vector<uint8_t>& out = mem.bytes();
  ASSERT_EQ(std::string(out.begin(), out.begin() + 3), "ID3");
  const size_t size = (out[6] << 21) | (out[7] << 14) | (out[8] << 7) | out[9];
  size_t zeros = 0;
  while (zeros < size && out[10 + size - 1 - zeros] == 0) ++zeros;
  EXPECT_GE(zeros, 8192u);
  FileView after = View(*mp3, out);
  EXPECT_EQ(after.ns.tags, kTags);
  EXPECT_EQ(after.foreign, before.foreign);
  EXPECT_TRUE(after.payload == before.payload);
  std::string path = ScratchPath("mp3");
  WriteBytes(path, out);
  EXPECT_EQ(MutagenNames("mp3", path).size(), 3u);  // CUSTOM_FIELD + ours
}

TEST(FlacFormat, RequestedPaddingIsLeftWhenTheAudioMoves) {
  const FormatPlugin* flac = LoadedFormat("flac");
  ASSERT_NE(flac, nullptr);
  std::vector<uint8_t> bytes = ReadBytes(MediaFile("flac"));
  FileView before = View(*flac, bytes);
  MemoryStream mem(bytes, "padding");
  // More than the fixture's padding holds, so the audio has to move.
  TagSet big = kTags;
  big["lyrics-like"] = {std::string(20000, 'x')};
  ASSERT_TRUE(flac->WriteNamespace(mem.stream(), big, 32768).ok());
  FileView after = View(*flac, mem.bytes());
  EXPECT_EQ(after.ns.tags, big);
  EXPECT_EQ(after.foreign, before.foreign);
  EXPECT_TRUE(after.payload == before.payload);
  std::string path = ScratchPath("flac");
  WriteBytes(path, mem.bytes());
  EXPECT_EQ(RunPython("from mutagen.flac import FLAC, Padding\n"
                      "f = FLAC(" +
                      Q(path) +
                      ")\n"
                      "print(sum(b.length for b in f.metadata_blocks\n"
                      "          if isinstance(b, Padding)) >= 32768)\n"),
            "True\n");
}

// TagLib resets padding over 1% of the file, which moves the audio of a
// small file though the tags fit; the plugins fill the padding back, so
// such a write stays in place.
TEST(FlacFormat, TagLibsPaddingTrimIsUndoneWhenTheTagsFit) {
  const FormatPlugin* flac = LoadedFormat("flac");
  ASSERT_NE(flac, nullptr);
  std::vector<uint8_t> bytes = ReadBytes(MediaFile("flac"));
  MemoryStream mem(bytes, "trim");
  ASSERT_TRUE(flac->WriteNamespace(mem.stream(), kTags, 32768).ok());
  MemoryStream again(mem.bytes(), "again");
  ASSERT_TRUE(flac->WriteNamespace(again.stream(), {}, 0).ok());
  EXPECT_EQ(again.bytes().size(), mem.bytes().size())
      << "clearing our tags keeps the metadata's length";
  FileView view = View(*flac, again.bytes());
  EXPECT_TRUE(view.ns.tags.empty());
  EXPECT_TRUE(view.payload == View(*flac, bytes).payload);
}

std::string Chapters(const std::string& path) {
  return RunPython(
      "import subprocess\nprint(subprocess.run(['ffprobe', "
      "'-loglevel', 'error', '-show_chapters', '-of', 'compact', " +
      Q(path) + "], check=True, capture_output=True, text=True).stdout)\n");
}

// Chapters live in a text track and udta/chpl, outside TagLib's ilst.
TEST(Mp4Format, ChaptersSurviveAWrite) {
  const FormatPlugin* mp4 = LoadedFormat("mp4");
  ASSERT_NE(mp4, nullptr);
  std::string meta = ScratchPath("txt");
  const std::string text =
      ";FFMETADATA1\ntitle=T\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\n"
      "END=1000\ntitle=Intro\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1000\n"
      "END=2000\ntitle=Outro\n";
  WriteBytes(meta, std::vector<uint8_t>(text.begin(), text.end()));
  std::string path = ScratchPath("m4a");
  RunPython(
      "import subprocess\nsubprocess.run(['ffmpeg', '-loglevel', "
      "'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=2', '-i', " +
      Q(meta) +
      ", '-map', '0:a', '-map_metadata', '1', '-map_chapters', '1', "
      "'-c:a', 'aac', " +
      Q(path) + "], check=True)\n");
  const std::string chapters = Chapters(path);
  ASSERT_NE(chapters.find("Outro"), std::string::npos) << chapters;
  std::vector<uint8_t> bytes = ReadBytes(path);
  FileView before = View(*mp4, bytes);
  ASSERT_TRUE(before.status.ok()) << before.status.ToString();
  auto written = Write(*mp4, bytes, kTags);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  FileView after = View(*mp4, *written);
  EXPECT_EQ(after.foreign, before.foreign);
  EXPECT_TRUE(after.payload == before.payload);
  std::string out = ScratchPath("m4a");
  WriteBytes(out, *written);
  EXPECT_EQ(Chapters(out), chapters);
  EXPECT_EQ(FfmpegAudioHash(out), FfmpegAudioHash(path));
}

// moov before mdat: a growing tag moves the samples, and only patched
// chunk offsets keep them addressed. The payload follows the tables, so it
// notices offsets left wrong, which hashing mdat would not.
TEST(Mp4Format, FaststartSamplesStayAddressed) {
  const FormatPlugin* mp4 = LoadedFormat("mp4");
  ASSERT_NE(mp4, nullptr);
  std::string path = ScratchPath("m4a");
  RunPython(
      "import subprocess\nsubprocess.run(['ffmpeg', '-loglevel', "
      "'error', '-y', '-i', " +
      Q(MediaFile("m4a")) +
      ", '-map', '0', '-c', 'copy', '-movflags', '+faststart', " + Q(path) +
      "], check=True)\n");
  std::vector<uint8_t> bytes = ReadBytes(path);
  const std::string text(bytes.begin(), bytes.end());
  ASSERT_LT(text.find("moov"), text.find("mdat")) << "not faststart";
  FileView before = View(*mp4, bytes);
  ASSERT_TRUE(before.status.ok()) << before.status.ToString();
  TagSet big = kTags;
  big["long"] = {std::string(5000, 'x')};  // more than any free atom holds
  auto written = Write(*mp4, bytes, big);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  const std::string after_text(written->begin(), written->end());
  ASSERT_GT(after_text.find("mdat"), text.find("mdat")) << "samples moved";
  FileView after = View(*mp4, *written);
  EXPECT_EQ(after.ns.tags, big);
  EXPECT_EQ(after.foreign, before.foreign);
  EXPECT_TRUE(after.payload == before.payload);
  std::string out = ScratchPath("m4a");
  WriteBytes(out, *written);
  EXPECT_EQ(FfmpegAudioHash(out), FfmpegAudioHash(path));

  // The same bytes with the samples shifted and the tables not patched:
  // the payload must differ.
  std::vector<uint8_t> broken = *written;
  const size_t mdat = after_text.find("mdat") - 4;
  const uint32_t size = (broken[mdat] << 24) | (broken[mdat + 1] << 16) |
                        (broken[mdat + 2] << 8) | broken[mdat + 3];
  broken.insert(broken.begin() + mdat + 8, 16, 0);
  const uint32_t grown = size + 16;
  for (int i = 0; i < 4; ++i) broken[mdat + i] = uint8_t(grown >> (24 - 8 * i));
  FileView shifted = View(*mp4, broken);
  EXPECT_FALSE(shifted.status.ok() && shifted.payload == before.payload);
}

// TagLib 1.13 can miss frames after a v2.4 extended header (fixed in
// 1.13.1); what it misses it would drop. The raw frame walk must see it.
TEST(Mp3Format, ExtendedHeaderIsKeptOrTheWriteRefused) {
  const FormatPlugin* mp3 = LoadedFormat("mp3");
  ASSERT_NE(mp3, nullptr);
  std::vector<uint8_t> b = ReadBytes(MediaFile("mp3"));
  ASSERT_EQ(b[3], 4);
  // A minimal v2.4 extended header: sync-safe size 6, one flag byte, 0.
  const uint8_t ext[6] = {0, 0, 0, 6, 1, 0};
  b.insert(b.begin() + 10, ext, ext + 6);
  b[5] |= 0x40;
  uint32_t size = (b[6] << 21) | (b[7] << 14) | (b[8] << 7) | b[9];
  size += 6;
  for (int i = 0; i < 4; ++i) b[6 + i] = (size >> (21 - 7 * i)) & 0x7f;
  std::string path = ScratchPath("mp3");
  WriteBytes(path, b);
  const bool refused = RefusedOrFaithful(*mp3, path);
  EXPECT_FALSE(refused) << "the splice keeps the extended header (issue 18)";
  std::cout << "ID3v2.4 extended header: "
            << (refused ? "write refused" : "round-trips") << "\n";
}

// TagLib skips a comment field without '=' on parse, so its save lost it;
// the splice keeps the field's bytes.
TEST(FlacFormat, FieldTagLibCannotParseIsKeptByteForByte) {
  const FormatPlugin* flac = LoadedFormat("flac");
  ASSERT_NE(flac, nullptr);
  std::vector<uint8_t> b = ReadBytes(MediaFile("flac"));
  size_t at = 4;
  for (;;) {
    ASSERT_LT(at + 4, b.size());
    const int type = b[at] & 0x7f;
    const size_t len = (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
    if (type == 4) break;
    ASSERT_FALSE(b[at] & 0x80) << "no comment block";
    at += 4 + len;
  }
  const size_t len = (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
  const size_t body = at + 4;
  const uint32_t vendor = b[body] | (b[body + 1] << 8) | (b[body + 2] << 16);
  const size_t count_at = body + 4 + vendor;
  b[count_at] += 1;  // one more field (fewer than 255 there)
  const std::string field = "BROKENFIELD";
  std::vector<uint8_t> entry = {uint8_t(field.size()), 0, 0, 0};
  entry.insert(entry.end(), field.begin(), field.end());
  b.insert(b.begin() + body + len, entry.begin(), entry.end());
  const size_t new_len = len + entry.size();
  b[at + 1] = uint8_t(new_len >> 16);
  b[at + 2] = uint8_t(new_len >> 8);
  b[at + 3] = uint8_t(new_len);
  FileView v = View(*flac, b);
  ASSERT_TRUE(v.status.ok()) << v.status.ToString();
  auto written = Write(*flac, b, kTags);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_NE(
      std::search(written->begin(), written->end(), entry.begin(), entry.end()),
      written->end())
      << "the field without '=' was lost";
  FileView after = View(*flac, *written);
  EXPECT_EQ(after.ns.tags, kTags);
  EXPECT_EQ(after.foreign, v.foreign);
  EXPECT_TRUE(after.payload == v.payload);
}

// TagLib 1.13 drops, on save, a freeform item whose name does not have
// three ':'-separated parts; the splice keeps its bytes as they are.
TEST(Mp4Format, UnrenderableFreeformItemIsKeptByteForByte) {
  const FormatPlugin* mp4 = LoadedFormat("mp4");
  ASSERT_NE(mp4, nullptr);
  std::string path = Copy("m4a", "m4a");
  RunPython(
      "from mutagen.mp4 import MP4, MP4FreeForm\n"
      "f = MP4(" +
      Q(path) +
      ")\n"
      "f['----:com.apple.iTunes:foo:bar'] = [MP4FreeForm(b'x')]\n"
      "f.save()\n");
  std::vector<uint8_t> bytes = ReadBytes(path);
  const std::string name = "foo:bar";
  auto at = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
  ASSERT_NE(at, bytes.end());
  // The whole "----" atom: back to its header, then its size.
  const std::string four = "----";
  auto head = std::find_end(bytes.begin(), at, four.begin(), four.end()) - 4;
  const size_t len =
      (head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
  const std::vector<uint8_t> item(head, head + len);
  FileView before = View(*mp4, bytes);
  auto written = Write(*mp4, bytes, kTags);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_NE(
      std::search(written->begin(), written->end(), item.begin(), item.end()),
      written->end())
      << "the foo:bar item's bytes changed";
  FileView after = View(*mp4, *written);
  EXPECT_EQ(after.ns.tags, kTags);
  EXPECT_EQ(after.foreign, before.foreign);
  EXPECT_TRUE(after.payload == before.payload);
}

TEST(Mp4Format, QuickTimeKeysMetadataIsKeptOrTheWriteRefused) {
  const FormatPlugin* mp4 = LoadedFormat("mp4");
  ASSERT_NE(mp4, nullptr);
  const bool refused = RefusedOrFaithful(*mp4, MediaFile("m4a-mdta"));
  std::cout << "MP4 keys-style (mdta) metadata: "
            << (refused ? "write refused" : "round-trips") << "\n";
}

// Files without any tag container: TagLib creates one (an MP4 udta/meta/
// ilst, a FLAC comment block); that is no foreign change.
TEST(FormatBareFiles, WriteAndClearWithoutForeignChange) {
  struct Bare {
    const char* container;
    const char* ext;
    const char* codec;
    const char* after;  // python run on the file after ffmpeg
  };
  const Bare kBare[] = {
      {"mp4", "m4a", "aac", ""},
      {"flac", "flac", "flac",
       "from mutagen.flac import FLAC\nFLAC(P).delete()\n"},
  };
  for (const Bare& b : kBare) {
    const FormatPlugin* f = LoadedFormat(b.container);
    ASSERT_NE(f, nullptr);
    std::string path = ScratchPath(b.ext);
    RunPython(std::string("import subprocess\nP = ") + Q(path) +
              "\nsubprocess.run(['ffmpeg', '-loglevel', 'error', '-y', "
              "'-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', '" +
              b.codec +
              "', '-map_metadata', '-1', '-fflags', '+bitexact', "
              "'-flags', '+bitexact', P], check=True)\n" +
              b.after);
    std::vector<uint8_t> bytes = ReadBytes(path);
    FileView before = View(*f, bytes);
    ASSERT_TRUE(before.status.ok()) << before.status.ToString();
    auto written = Write(*f, bytes, kTags);
    ASSERT_TRUE(written.ok())
        << b.container << ": " << written.status().ToString();
    FileView after = View(*f, *written);
    EXPECT_EQ(after.ns.tags, kTags) << b.container;
    EXPECT_EQ(after.foreign, before.foreign) << b.container;
    EXPECT_TRUE(after.payload == before.payload) << b.container;
    auto cleared = Write(*f, *written, {});
    ASSERT_TRUE(cleared.ok()) << cleared.status().ToString();
    EXPECT_TRUE(View(*f, *cleared).ns.tags.empty());
  }
}

TEST(FormatRequests, WriteToReadOnlyStreamIsInvalid) {
  for (const char* c : {"mp3", "mp4", "flac", "ogg-vorbis", "opus"}) {
    const FormatPlugin* f = LoadedFormat(c);
    ASSERT_NE(f, nullptr);
    MemoryStream mem({1, 2, 3}, "ro", /*read_only=*/true);
    Status st = f->WriteNamespace(mem.stream(), kTags, 0);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << c;
    EXPECT_EQ(mem.edits(), 0);
  }
}

TEST(FormatRequests, InvalidUtf8ValueIsRefusedBeforeAnyEdit) {
  const FormatPlugin* flac = LoadedFormat("flac");
  ASSERT_NE(flac, nullptr);
  MemoryStream mem(ReadBytes(MediaFile("flac")), "bad-utf8");
  Status st = flac->WriteNamespace(mem.stream(), {{"key", {"caf\xe9"}}}, 0);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << st.ToString();
  EXPECT_EQ(mem.edits(), 0);
}

TEST(FormatRequests, ProbeTellsContainersApart) {
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"mp3", "mp3"},
      {"m4a", "mp4"},
      {"flac", "flac"},
      {"ogg", "ogg-vorbis"},
      {"opus", "opus"}};
  for (const auto& [kind, container] : kinds) {
    MemoryStream mem(ReadBytes(MediaFile(kind)), kind);
    for (const auto& [other_kind, other] : kinds) {
      const FormatPlugin* f = LoadedFormat(other);
      ASSERT_NE(f, nullptr);
      auto matches = f->Probe(mem.stream());
      ASSERT_TRUE(matches.ok()) << matches.status().ToString();
      EXPECT_EQ(*matches, container == other) << kind << " probed by " << other;
    }
  }
}

}  // namespace
}  // namespace nomtag::testing
