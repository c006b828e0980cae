// Damaged input never crashes a plugin or comes back as a wrong success:
// every file cut short or with flipped bytes either reads, or fails with
// a clear status (CORRUPT, UNSUPPORTED, or REFUSED for a write). A write
// that goes through is judged by an independent reader too
// (tests/support/independent_view.py: mutagen and raw blocks and atoms),
// not only by the plugin's own snapshot, which is what verified it.
#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "format_under_test.h"
#include "media_fixtures.h"

namespace nomtag::testing {
namespace {

bool Acceptable(const Status& st) {
  return st.ok() || st.code() == Status::Code::kCorrupt ||
         st.code() == Status::Code::kUnsupported ||
         st.code() == Status::Code::kRefused;
}

// Written files kept for the independent reader: before, after, what.
struct Written {
  std::string before, after, what;
};

void Exercise(const FormatPlugin& f, const std::vector<uint8_t>& bytes,
              const std::string& what, std::vector<Written>* written) {
  FileView v = View(f, bytes);
  EXPECT_TRUE(Acceptable(v.status)) << what << ": " << v.status.ToString();
  auto w = Write(f, bytes, {{"mood-strict", {"happy"}}});
  EXPECT_TRUE(Acceptable(w.status())) << what << ": " << w.status().ToString();
  if (w.ok() && v.status.ok()) {
    // A write that went through kept what it read.
    FileView after = View(f, *w);
    EXPECT_TRUE(after.status.ok()) << what << ": " << after.status.ToString();
    EXPECT_EQ(after.foreign, v.foreign) << what;
    const std::string ext = f.extensions().front();
    Written w_files{ScratchPath(ext), ScratchPath(ext), what};
    WriteBytes(w_files.before, bytes);
    WriteBytes(w_files.after, *w);
    written->push_back(std::move(w_files));
  }
}

// Runs the independent reader over every written pair at once: our keys
// as desired, the foreign view unchanged, whenever mutagen can read the
// damaged original at all. Returns how many pairs it could judge.
int CheckIndependently(const std::vector<Written>& written) {
  std::ostringstream py;
  py << "import sys\nsys.path.insert(0, '" << NOMTAG_TEST_SUPPORT_DIR
     << "')\nimport independent_view as iv\npairs = [\n";
  for (const auto& w : written)
    py << "  ('" << w.before << "', '" << w.after << "', '" << w.what
       << "'),\n";
  py << "]\njudged = 0\n"
        "for before, after, what in pairs:\n"
        "    try:\n"
        "        theirs = iv.foreign(before)\n"
        "    except Exception:\n"
        "        continue  # too damaged for mutagen: nothing to compare\n"
        "    judged += 1\n"
        "    try:\n"
        "        if iv.foreign(after) != theirs:\n"
        "            print('FOREIGN', what)\n"
        "        if iv.ours(after) != {'mood-strict': ['happy']}:\n"
        "            print('OURS', what, iv.ours(after))\n"
        "    except Exception as e:\n"
        "        print('UNREADABLE', what, type(e).__name__, e)\n"
        "print('judged', judged)\n";
  std::string out = RunPython(py.str());
  std::istringstream lines(out);
  std::string line;
  int judged = -1;
  while (std::getline(lines, line)) {
    if (line.rfind("judged ", 0) == 0)
      judged = std::stoi(line.substr(7));
    else
      ADD_FAILURE() << "independent reader: " << line;
  }
  return judged;
}

TEST(FormatDamage, CutShortOrFlippedBytesGiveAClearStatus) {
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"mp3", "mp3"},   {"mp3-v23", "mp3"},    {"m4a", "mp4"},
      {"flac", "flac"}, {"ogg", "ogg-vorbis"}, {"opus", "opus"}};
  std::mt19937 rng(20261124);  // fixed: failures must reproduce
  std::vector<Written> written;
  for (const auto& [kind, container] : kinds) {
    const FormatPlugin* f = LoadedFormat(container);
    ASSERT_NE(f, nullptr);
    const std::vector<uint8_t> original = ReadBytes(MediaFile(kind));
    for (double cut : {0.01, 0.1, 0.5, 0.9, 0.999}) {
      std::vector<uint8_t> b(original.begin(),
                             original.begin() + size_t(original.size() * cut));
      Exercise(*f, b, kind + " cut at " + std::to_string(cut), &written);
    }
    for (int round = 0; round < 60; ++round) {
      std::vector<uint8_t> b = original;
      // Damage concentrates where the tags and tables are: the first and
      // last few KiB.
      for (int k = 0; k < 4; ++k) {
        size_t span = std::min<size_t>(b.size(), 8192);
        size_t at = rng() % span;
        if (rng() % 2) at = b.size() - 1 - at;
        b[at] ^= uint8_t(1 + rng() % 255);
      }
      Exercise(*f, b, kind + " flipped, round " + std::to_string(round),
               &written);
    }
  }
  // Most damage falls in the audio or in a tag mutagen still reads: the
  // independent check must have judged many writes, or it proves nothing.
  EXPECT_GE(CheckIndependently(written), 100) << written.size() << " written";
}

}  // namespace
}  // namespace nomtag::testing
