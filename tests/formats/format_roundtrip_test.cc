// Every format plugin, driven through the host's FormatPlugin on files
// made by ffmpeg: the namespace round-trips exactly, foreign tags and the
// audio payload stay the same (by the plugin's own snapshot and by
// independent readers), legacy keys are read as ours and cleared.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "format_under_test.h"
#include "media_fixtures.h"
#include "support/memory_stream.h"

namespace nomtag::testing {
namespace {

struct Case {
  std::string kind;       // media_fixtures kind
  std::string container;  // plugin container
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.kind; }

std::string PrintCase(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.kind;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

const TagSet kFirst = {
    {"mood-strict", {"happy", "party"}},
    {"essentia.mood_happy", {"0.8125"}},
};
const TagSet kSecond = {
    {"mood-strict", {"sad"}},
    {"bpm", {"120"}},
    // "Ünïcødé ✓", spelled out so no hex escape swallows a letter.
    {"unicode",
     {"\xc3\x9c"
      "n"
      "\xc3\xaf"
      "c"
      "\xc3\xb8"
      "d"
      "\xc3\xa9"
      " \xe2\x9c\x93"}},
    {"multi", {"a", "b", "c"}},
};

bool HasItemStartingWith(const ForeignSnapshot& s, const std::string& p) {
  return std::any_of(s.begin(), s.end(), [&](const ForeignItem& i) {
    return i.id.compare(0, p.size(), p) == 0;
  });
}

// The names an independent reader shows for a key set, as the container
// stores them (SPEC section 3).
std::vector<std::string> OnDiskNames(const std::string& container,
                                     const TagSet& tags) {
  std::vector<std::string> names;
  for (const auto& [key, values] : tags) {
    if (container == "mp3") {
      names.push_back("nom:" + key);
    } else if (container == "mp4") {
      names.push_back("----:com.apple.iTunes:nom." + key);
    } else {
      std::string upper = key;
      for (char& c : upper) c = static_cast<char>(std::toupper(c));
      for (size_t i = 0; i < values.size(); ++i)
        names.push_back("NOM:" + upper);
    }
  }
  return names;
}

// What the independent reader shows for path, and what it should show
// for our keys.
nlohmann::json Independent(const std::string& path) {
  return nlohmann::json::parse(IndependentView(path));
}
nlohmann::json AsJson(const TagSet& tags) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, v] : tags) out[k] = v;
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class FormatRoundTrip : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    plugin_ = LoadedFormat(GetParam().container);
    ASSERT_NE(plugin_, nullptr);
    path_ = MediaFile(GetParam().kind);
    original_ = ReadBytes(path_);
    view_ = View(*plugin_, original_);
    ASSERT_TRUE(view_.status.ok()) << view_.status.ToString();
  }

  // Writes desired over bytes and checks what users rely on: the namespace
  // reads back exactly, nothing foreign and no audio changed.
  std::vector<uint8_t> WriteAndCheck(const std::vector<uint8_t>& bytes,
                                     const TagSet& desired,
                                     const FileView& expect_unchanged) {
    auto written = Write(*plugin_, bytes, desired);
    EXPECT_TRUE(written.ok()) << written.status().ToString();
    if (!written.ok()) return bytes;
    FileView after = View(*plugin_, *written);
    EXPECT_TRUE(after.status.ok()) << after.status.ToString();
    EXPECT_EQ(after.ns.tags, desired);
    EXPECT_FALSE(after.ns.has_legacy_keys);
    EXPECT_EQ(after.foreign, expect_unchanged.foreign);
    EXPECT_TRUE(after.payload == expect_unchanged.payload)
        << "audio payload changed: " << after.payload.size() << " bytes, was "
        << expect_unchanged.payload.size() << "; "
        << after.payload.substr(0, 16) << " / "
        << expect_unchanged.payload.substr(0, 16);
    return *written;
  }

  const FormatPlugin* plugin_ = nullptr;
  std::string path_;
  std::vector<uint8_t> original_;
  FileView view_;
};

TEST_P(FormatRoundTrip, PristineFileHasForeignTagsAndNoNamespace) {
  EXPECT_TRUE(view_.ns.tags.empty());
  EXPECT_GT(view_.payload.size(), 1000u);
  EXPECT_GE(view_.foreign.size(), 4u);
  // The picture is foreign and must be in the snapshot.
  bool has_picture = false;
  for (const auto& item : view_.foreign)
    if (item.id.find("APIC") != std::string::npos ||
        item.id.find("picture") != std::string::npos ||
        item.id.find("covr") != std::string::npos ||
        item.id.find(":type6") != std::string::npos)
      has_picture = true;
  EXPECT_TRUE(has_picture);
}

TEST_P(FormatRoundTrip, WriteRewriteClearKeepsForeignAndPayload) {
  std::vector<uint8_t> first = WriteAndCheck(original_, kFirst, view_);
  std::vector<uint8_t> second = WriteAndCheck(first, kSecond, view_);
  std::vector<uint8_t> cleared = WriteAndCheck(second, {}, view_);
  EXPECT_TRUE(View(*plugin_, cleared).ns.tags.empty());
}

// Writing the same set again reproduces the same bytes: a second write
// changes nothing (the host compares first and skips it anyway).
TEST_P(FormatRoundTrip, SameSetTwiceGivesTheSameBytes) {
  auto once = Write(*plugin_, original_, kSecond);
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  auto twice = Write(*plugin_, *once, kSecond);
  ASSERT_TRUE(twice.ok()) << twice.status().ToString();
  EXPECT_TRUE(*once == *twice) << once->size() << " vs " << twice->size();
}

TEST_P(FormatRoundTrip, IndependentReadersAgree) {
  std::vector<uint8_t> written = WriteAndCheck(original_, kSecond, view_);
  std::string out = ScratchPath(path_.substr(path_.rfind('.') + 1));
  WriteBytes(out, written);
  const std::string& c = GetParam().container;
  std::vector<std::string> before = MutagenNames(GetParam().kind, path_);
  std::vector<std::string> expect = before;
  for (const auto& n : OnDiskNames(c, kSecond)) expect.push_back(n);
  EXPECT_EQ(MutagenNames(GetParam().kind, out), Sorted(expect));
  EXPECT_EQ(FfmpegAudioHash(out), FfmpegAudioHash(path_));
  // Keys and values, every foreign item byte for byte, the audio.
  nlohmann::json was = Independent(path_), now = Independent(out);
  EXPECT_EQ(now["ours"], AsJson(kSecond));
  EXPECT_EQ(now["foreign"], was["foreign"]);
  EXPECT_EQ(now["audio"], was["audio"]);
}

TEST_P(FormatRoundTrip, LegacyKeysAreOursAndClearedLookalikesAreKept) {
  std::string legacy_path = WithLegacyAndLookalikes(GetParam().kind);
  std::vector<uint8_t> legacy = ReadBytes(legacy_path);
  FileView lv = View(*plugin_, legacy);
  ASSERT_TRUE(lv.status.ok()) << lv.status.ToString();
  const std::string& c = GetParam().container;
  if (c == "mp3") {
    // mutagen joins a v2.3 multi-value TXXX with '/'.
    TagSet want = GetParam().kind == "mp3" ? TagSet{{"old-key", {"a", "b"}}}
                                           : TagSet{{"old-key", {"a/b"}}};
    EXPECT_EQ(lv.ns.tags, want);
  } else if (c == "mp4") {
    EXPECT_EQ(lv.ns.tags, (TagSet{{"legacy-key", {"old"}}}));
    EXPECT_TRUE(lv.ns.has_legacy_keys);
  } else {
    EXPECT_EQ(lv.ns.tags,
              (TagSet{{"legacy-key", {"old"}}, {"lower-case", {"x", "y"}}}));
    EXPECT_TRUE(lv.ns.has_legacy_keys);
  }
  // Look-alikes are foreign: they are in the snapshot and survive writes.
  if (c == "mp4") {
    EXPECT_TRUE(
        HasItemStartingWith(lv.foreign, "mp4:----:com.apple.iTunes:nomad"));
    EXPECT_TRUE(
        HasItemStartingWith(lv.foreign, "mp4:----:org.example:nom.other-mean"));
  } else if (c != "mp3") {
    EXPECT_TRUE(HasItemStartingWith(lv.foreign, "vorbis:NOMAD"));
    EXPECT_TRUE(HasItemStartingWith(lv.foreign, "vorbis:NOMINATED"));
  } else {
    // TXXX "nom", "nomad", "NOM:upper" (mutagen keeps one "nom").
    EXPECT_EQ(lv.foreign.size(), view_.foreign.size() + 3);
  }
  std::vector<uint8_t> written = WriteAndCheck(legacy, kFirst, lv);
  std::string out = ScratchPath(path_.substr(path_.rfind('.') + 1));
  WriteBytes(out, written);
  std::vector<std::string> names = MutagenNames(GetParam().kind, out);
  std::vector<std::string> expect = MutagenNames(GetParam().kind, legacy_path);
  expect.erase(
      std::remove_if(expect.begin(), expect.end(),
                     [&](const std::string& n) {
                       return n == "nom:old-key" ||
                              n == "----:com.apple.iTunes:nom:legacy-key" ||
                              n == "NOM_LEGACY_KEY" || n == "NOM:LOWER-CASE";
                     }),
      expect.end());
  for (const auto& n : OnDiskNames(c, kFirst)) expect.push_back(n);
  EXPECT_EQ(names, Sorted(expect));
  EXPECT_EQ(FfmpegAudioHash(out), FfmpegAudioHash(legacy_path));
  EXPECT_EQ(Independent(out)["ours"], AsJson(kFirst));
}

TEST_P(FormatRoundTrip, SnapshotSeesAForeignChange) {
  // The snapshot must be able to fail: change the foreign title with an
  // independent writer and the snapshot differs.
  std::string changed = ScratchPath(path_.substr(path_.rfind('.') + 1));
  WriteBytes(changed, original_);
  const std::string& c = GetParam().container;
  std::string q = "'" + changed + "'";
  if (c == "mp3")
    RunPython("from mutagen.id3 import ID3, TIT2\nt = ID3(" + q +
              ")\nt.add(TIT2(encoding=3, text=['Other']))\nt.save(v2_version=" +
              (GetParam().kind == "mp3" ? "4" : "3") + ")\n");
  else if (c == "mp4")
    RunPython("from mutagen.mp4 import MP4\nf = MP4(" + q +
              ")\nf['\\xa9nam'] = ['Other']\nf.save()\n");
  else
    RunPython("import mutagen\nf = mutagen.File(" + q +
              ")\nf['TITLE'] = ['Other']\nf.save()\n");
  FileView v = View(*plugin_, ReadBytes(changed));
  ASSERT_TRUE(v.status.ok()) << v.status.ToString();
  EXPECT_NE(v.foreign, view_.foreign);
  EXPECT_TRUE(v.payload == view_.payload);
}

// A write reads the original and the edited file with one parse (ABI 1.9
// read_tags_with) and verifies with what it reports: it must report
// exactly what the two separate reads do, or a foreign change could go
// unseen. Checked on the pristine file, on one holding our keys, on one
// whose foreign title another program changed, and on bad input.
TEST_P(FormatRoundTrip, OneParseReadsExactlyWhatTheTwoReadsDo) {
  EXPECT_TRUE(plugin_->ReadsTagsAtOnce());
  auto check = [&](const std::vector<uint8_t>& bytes, const char* what) {
    MemoryStream mem(bytes, "view", /*read_only=*/true);
    auto both = plugin_->ReadTags(mem.stream());
    FileView v = View(*plugin_, bytes);
    if (!v.status.ok()) {
      EXPECT_FALSE(both.ok()) << what;
      return;
    }
    ASSERT_TRUE(both.ok()) << what << ": " << both.status().ToString();
    EXPECT_EQ(both->nom.tags, v.ns.tags) << what;
    EXPECT_EQ(both->nom.has_legacy_keys, v.ns.has_legacy_keys) << what;
    EXPECT_TRUE(both->foreign == v.foreign) << what;
  };
  check(original_, "pristine");
  auto written = Write(*plugin_, original_, kSecond);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  check(*written, "with our keys");
  std::string changed = ScratchPath(path_.substr(path_.rfind('.') + 1));
  WriteBytes(changed, *written);
  RunPython("import mutagen\nf = mutagen.File('" + changed + "')\n" +
            (GetParam().container == "mp3"
                 ? "from mutagen.id3 import TIT2\nf.tags.add(TIT2(encoding=3, "
                   "text=['Other']))\n"
             : GetParam().container == "mp4" ? "f['\\xa9nam'] = ['Other']\n"
                                             : "f['TITLE'] = ['Other']\n") +
            "f.save()\n");
  check(ReadBytes(changed), "foreign title changed by mutagen");
  check({}, "zero-byte");
  check(std::vector<uint8_t>(original_.begin(), original_.begin() + 200),
        "truncated");
}

TEST_P(FormatRoundTrip, BadInputIsAClearError) {
  auto expect_error = [&](const std::vector<uint8_t>& bytes, const char* what) {
    FileView v = View(*plugin_, bytes);
    EXPECT_FALSE(v.status.ok()) << what;
    EXPECT_TRUE(v.status.code() == Status::Code::kCorrupt ||
                v.status.code() == Status::Code::kUnsupported)
        << what << ": " << v.status.ToString();
    EXPECT_NE(v.status.message().find("view"), std::string::npos)
        << "message names the stream: " << v.status.message();
    auto w = Write(*plugin_, bytes, kFirst);
    EXPECT_FALSE(w.ok()) << what;
  };
  expect_error({}, "zero-byte");
  expect_error(std::vector<uint8_t>(original_.begin(), original_.begin() + 200),
               "truncated");
  std::vector<uint8_t> garbage(4096);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = uint8_t(i * 7 + 3);
  expect_error(garbage, "garbage");
}

INSTANTIATE_TEST_SUITE_P(
    Formats, FormatRoundTrip,
    ::testing::Values(Case{"mp3", "mp3"}, Case{"mp3-v23", "mp3"},
                      Case{"flac", "flac"}, Case{"ogg", "ogg-vorbis"},
                      Case{"opus", "opus"}, Case{"m4a", "mp4"}),
    PrintCase);

}  // namespace
}  // namespace nomtag::testing
