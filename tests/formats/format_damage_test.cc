// Damaged input never crashes a plugin or comes back as a wrong success:
// every file cut short or with flipped bytes either reads, or fails with
// a clear status (CORRUPT, UNSUPPORTED, or REFUSED for a write).
#include <gtest/gtest.h>

#include <random>

#include "format_under_test.h"
#include "media_fixtures.h"

namespace nomtag::testing {
namespace {

bool Acceptable(const Status& st) {
  return st.ok() || st.code() == Status::Code::kCorrupt ||
         st.code() == Status::Code::kUnsupported ||
         st.code() == Status::Code::kRefused;
}

void Exercise(const FormatPlugin& f, const std::vector<uint8_t>& bytes,
              const std::string& what) {
  FileView v = View(f, bytes);
  EXPECT_TRUE(Acceptable(v.status)) << what << ": " << v.status.ToString();
  auto w = Write(f, bytes, {{"mood-strict", {"happy"}}});
  EXPECT_TRUE(Acceptable(w.status())) << what << ": " << w.status().ToString();
  if (w.ok() && v.status.ok()) {
    // A write that went through kept what it read.
    FileView after = View(f, *w);
    EXPECT_TRUE(after.status.ok()) << what << ": " << after.status.ToString();
    EXPECT_EQ(after.foreign, v.foreign) << what;
  }
}

TEST(FormatDamage, CutShortOrFlippedBytesGiveAClearStatus) {
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"mp3", "mp3"},   {"mp3-v23", "mp3"},    {"m4a", "mp4"},
      {"flac", "flac"}, {"ogg", "ogg-vorbis"}, {"opus", "opus"}};
  std::mt19937 rng(20261124);  // fixed: failures must reproduce
  for (const auto& [kind, container] : kinds) {
    const FormatPlugin* f = LoadedFormat(container);
    ASSERT_NE(f, nullptr);
    const std::vector<uint8_t> original = ReadBytes(MediaFile(kind));
    for (double cut : {0.01, 0.1, 0.5, 0.9, 0.999}) {
      std::vector<uint8_t> b(original.begin(),
                             original.begin() + size_t(original.size() * cut));
      Exercise(*f, b, kind + " cut at " + std::to_string(cut));
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
      Exercise(*f, b, kind + " flipped, round " + std::to_string(round));
    }
  }
}

}  // namespace
}  // namespace nomtag::testing
