// The overlay against a reference: every edit applied to the overlay is
// applied to a plain std::string too, and the two must read the same.
#include "io/overlay_stream.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace nomtag {
namespace {

std::string ReadAll(OverlayStream& o) {
  std::string out(o.length(), '\0');
  size_t got = 0;
  EXPECT_TRUE(o.Read(0, out.data(), out.size(), &got).ok());
  EXPECT_EQ(got, out.size());
  return out;
}

// Rebuilds the content from the pieces alone, as a commit does.
std::string FromPieces(const OverlayStream& o, const std::string& base) {
  std::string out;
  for (const auto& p : o.pieces())
    out += p.from_base ? base.substr(p.base_offset, p.length)
                       : std::string(o.added(p), p.length);
  return out;
}

class OverlayTest : public ::testing::Test {
 protected:
  std::string base_ = "0123456789abcdefghijklmnopqrstuvwxyz";
  MemorySource source_{&base_, "mem"};
};

TEST_F(OverlayTest, UneditedReadsTheOriginal) {
  OverlayStream o(&source_, false);
  EXPECT_EQ(ReadAll(o), base_);
  EXPECT_FALSE(o.edited());
  EXPECT_TRUE(o.PreservesOffsets());
}

TEST_F(OverlayTest, ReadOnlyRefusesEdits) {
  OverlayStream o(&source_, true);
  EXPECT_FALSE(o.Write(0, "x", 1).ok());
  EXPECT_FALSE(o.Insert(0, "x", 1, 0).ok());
  EXPECT_FALSE(o.Remove(0, 1).ok());
  EXPECT_EQ(ReadAll(o), base_);
  EXPECT_EQ(o.stream()->read_only, 1);
}

TEST_F(OverlayTest, WriteInsideKeepsOffsets) {
  OverlayStream o(&source_, false);
  ASSERT_TRUE(o.Write(10, "ABC", 3).ok());
  EXPECT_EQ(ReadAll(o), "0123456789ABCdefghijklmnopqrstuvwxyz");
  EXPECT_TRUE(o.PreservesOffsets());
  EXPECT_EQ(base_, "0123456789abcdefghijklmnopqrstuvwxyz") << "disk untouched";
}

TEST_F(OverlayTest, InsertShiftsAndBreaksOffsets) {
  OverlayStream o(&source_, false);
  ASSERT_TRUE(o.Insert(5, "XY", 2, 0).ok());
  EXPECT_EQ(ReadAll(o), "01234XY56789abcdefghijklmnopqrstuvwxyz");
  EXPECT_FALSE(o.PreservesOffsets());
}

TEST_F(OverlayTest, ReplaceSameSizeKeepsOffsets) {
  OverlayStream o(&source_, false);
  ASSERT_TRUE(o.Insert(5, "XYZ", 3, 3).ok());
  EXPECT_EQ(ReadAll(o), "01234XYZ89abcdefghijklmnopqrstuvwxyz");
  EXPECT_TRUE(o.PreservesOffsets());
}

TEST_F(OverlayTest, GrowthAtTheEndKeepsOffsets) {
  OverlayStream o(&source_, false);
  ASSERT_TRUE(o.Write(base_.size(), "tail", 4).ok());
  EXPECT_TRUE(o.PreservesOffsets());
  ASSERT_TRUE(o.Truncate(base_.size() + 10).ok());
  EXPECT_EQ(ReadAll(o), base_ + "tail" + std::string(6, '\0'));
  EXPECT_TRUE(o.PreservesOffsets());
}

TEST_F(OverlayTest, ShrinkingIsNotInPlace) {
  OverlayStream o(&source_, false);
  ASSERT_TRUE(o.Truncate(10).ok());
  EXPECT_EQ(ReadAll(o), "0123456789");
  EXPECT_FALSE(o.PreservesOffsets());
}

TEST_F(OverlayTest, WritePastTheEndIsAnError) {
  OverlayStream o(&source_, false);
  EXPECT_FALSE(o.Write(base_.size() + 1, "x", 1).ok());
  EXPECT_FALSE(o.Insert(base_.size() + 1, "x", 1, 0).ok());
  EXPECT_EQ(ReadAll(o), base_);
}

TEST_F(OverlayTest, BaseOffsetOfFollowsShifts) {
  OverlayStream o(&source_, false);
  ASSERT_TRUE(o.Insert(0, "HEAD", 4, 2).ok());  // "HEAD23456789..."
  EXPECT_EQ(o.BaseOffsetOf(4, 10), std::optional<uint64_t>(2));
  EXPECT_EQ(o.BaseOffsetOf(3, 2), std::nullopt) << "spans new bytes";
  ASSERT_TRUE(o.Remove(10, 3).ok());  // drops base 8..10
  EXPECT_EQ(o.BaseOffsetOf(4, 6), std::optional<uint64_t>(2));
  EXPECT_EQ(o.BaseOffsetOf(4, 8), std::nullopt) << "not contiguous in base";
  EXPECT_EQ(o.BaseOffsetOf(o.length() - 1, 2), std::nullopt) << "past end";
}

TEST_F(OverlayTest, ShareUnchangedBytesKeepsContentAndFindsRuns) {
  std::string big(4096, 'p');
  for (size_t i = 0; i < big.size(); i += 97) big[i] = 'q';
  MemorySource src(&big, "big");
  OverlayStream o(&src, false);
  // Re-render the whole block with one byte changed, as TagLib does.
  std::string rendered = big;
  rendered[2000] = 'Z';
  ASSERT_TRUE(o.Write(0, rendered.data(), rendered.size()).ok());
  EXPECT_EQ(o.AddedBytes(), big.size());
  ASSERT_TRUE(o.ShareUnchangedBytes().ok());
  EXPECT_EQ(ReadAll(o), rendered);
  EXPECT_EQ(FromPieces(o, big), rendered);
  EXPECT_LE(o.AddedBytes(), 64u) << "only the change stays new";
  EXPECT_TRUE(o.PreservesOffsets());
}

// Thousands of random edits in any order, checked against a std::string.
TEST_F(OverlayTest, RandomEditSequencesMatchAReferenceBuffer) {
  int in_place_seeds = 0, moved_seeds = 0;
  for (unsigned seed = 1; seed <= 70; ++seed) {
    // Seeds past 40 mostly keep offsets (writes, growing truncates; a
    // rare insert, remove or cut), so both answers of PreservesOffsets
    // are checked.
    const bool mostly_in_place = seed > 40;
    std::mt19937 rng(seed);
    std::string original(1 + rng() % 5000, '\0');
    for (char& c : original) c = static_cast<char>('a' + rng() % 26);
    MemorySource src(&original, "rand");
    OverlayStream o(&src, false);
    std::string ref = original;
    // Where each byte of ref came from: its offset in the original, or -1
    // for a new byte. Kept by the test alone, beside ref, to judge
    // PreservesOffsets without the overlay's pieces.
    std::vector<int64_t> origin(original.size());
    for (size_t i = 0; i < origin.size(); ++i) origin[i] = int64_t(i);
    for (int op = 0; op < 300; ++op) {
      uint64_t len = ref.size();
      uint64_t at = len == 0 ? 0 : rng() % (len + 1);
      std::string data(rng() % 300, '\0');
      for (char& c : data) c = static_cast<char>('A' + rng() % 26);
      unsigned kind = rng() % 5;
      if (mostly_in_place && (kind == 1 || kind == 2 || kind == 3) &&
          rng() % 150 != 0)
        kind = kind == 3 ? 5 : 0;
      switch (kind) {
        case 5: {  // grow with zeros
          uint64_t n = len + rng() % 400;
          ASSERT_TRUE(o.Truncate(n).ok());
          ref.resize(n, '\0');
          origin.resize(n, -1);
          break;
        }
        case 0: {  // write (may extend)
          ASSERT_TRUE(o.Write(at, data.data(), data.size()).ok());
          uint64_t over = std::min<uint64_t>(data.size(), len - at);
          ref.replace(at, over, data);
          origin.erase(origin.begin() + at, origin.begin() + at + over);
          origin.insert(origin.begin() + at, data.size(), -1);
          break;
        }
        case 1: {  // insert with replace
          uint64_t replace = rng() % 200;
          ASSERT_TRUE(o.Insert(at, data.data(), data.size(), replace).ok());
          uint64_t gone = std::min<uint64_t>(replace, len - at);
          ref.replace(at, gone, data);
          origin.erase(origin.begin() + at, origin.begin() + at + gone);
          origin.insert(origin.begin() + at, data.size(), -1);
          break;
        }
        case 2: {  // remove
          uint64_t n = rng() % 300;
          ASSERT_TRUE(o.Remove(at, n).ok());
          uint64_t gone = std::min<uint64_t>(n, len - at);
          ref.erase(at, gone);
          origin.erase(origin.begin() + at, origin.begin() + at + gone);
          break;
        }
        case 3: {  // truncate, shorter or longer
          uint64_t n = rng() % (len + 400);
          ASSERT_TRUE(o.Truncate(n).ok());
          ref.resize(n, '\0');
          origin.resize(n, -1);
          break;
        }
        case 4: {  // random read
          uint64_t n = rng() % 500;
          std::string got(n, '\0');
          size_t count = 0;
          ASSERT_TRUE(o.Read(at, got.data(), n, &count).ok());
          got.resize(count);
          ASSERT_EQ(got, ref.substr(at, n)) << "seed " << seed << " op " << op;
          break;
        }
      }
      ASSERT_EQ(o.length(), ref.size()) << "seed " << seed << " op " << op;
    }
    ASSERT_EQ(ReadAll(o), ref) << "seed " << seed;
    ASSERT_EQ(FromPieces(o, original), ref) << "seed " << seed;
    ASSERT_TRUE(o.ShareUnchangedBytes().ok());
    ASSERT_EQ(FromPieces(o, original), ref) << "seed " << seed;
    // In place must mean exactly this, by the test's own model: no
    // original byte moved, and the stream did not shrink.
    bool in_place = ref.size() >= original.size();
    for (size_t i = 0; i < origin.size(); ++i)
      if (origin[i] >= 0 && origin[i] != int64_t(i)) in_place = false;
    ASSERT_EQ(o.PreservesOffsets(), in_place) << "seed " << seed;
    ++(in_place ? in_place_seeds : moved_seeds);
    if (in_place) {
      // And it means the commit's way works: the original, patched with
      // the new pieces where they stand, is the result.
      std::string patched = original;
      patched.resize(ref.size(), '\0');
      uint64_t pos = 0;
      for (const auto& p : o.pieces()) {
        if (!p.from_base) patched.replace(pos, p.length, o.added(p), p.length);
        pos += p.length;
      }
      ASSERT_EQ(patched, ref) << "seed " << seed;
    }
  }
  EXPECT_GT(in_place_seeds, 5);
  EXPECT_GT(moved_seeds, 5);
}

// The C table the plugins see edits the same overlay.
TEST_F(OverlayTest, CTableForwardsToTheOverlay) {
  OverlayStream o(&source_, false);
  const nomtag_stream* s = o.stream();
  EXPECT_EQ(s->length(s->ctx), base_.size());
  EXPECT_EQ(s->insert(s->ctx, 0, "++", 2, 0), NOMTAG_OK);
  EXPECT_EQ(s->remove(s->ctx, 2, 10), NOMTAG_OK);
  EXPECT_EQ(s->truncate(s->ctx, 5), NOMTAG_OK);
  char buf[8] = {0};
  size_t got = 0;
  EXPECT_EQ(s->read(s->ctx, 0, buf, sizeof buf, &got), NOMTAG_OK);
  EXPECT_EQ(std::string(buf, got), "++abc");
  EXPECT_EQ(s->write(s->ctx, 99, "x", 1), NOMTAG_ERR_IO) << "past the end";
}

}  // namespace
}  // namespace nomtag
