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
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    std::string original(1 + rng() % 5000, '\0');
    for (char& c : original) c = static_cast<char>('a' + rng() % 26);
    MemorySource src(&original, "rand");
    OverlayStream o(&src, false);
    std::string ref = original;
    for (int op = 0; op < 300; ++op) {
      uint64_t len = ref.size();
      uint64_t at = len == 0 ? 0 : rng() % (len + 1);
      std::string data(rng() % 300, '\0');
      for (char& c : data) c = static_cast<char>('A' + rng() % 26);
      switch (rng() % 5) {
        case 0: {  // write (may extend)
          ASSERT_TRUE(o.Write(at, data.data(), data.size()).ok());
          uint64_t over = std::min<uint64_t>(data.size(), len - at);
          ref.replace(at, over, data);
          break;
        }
        case 1: {  // insert with replace
          uint64_t replace = rng() % 200;
          ASSERT_TRUE(o.Insert(at, data.data(), data.size(), replace).ok());
          ref.replace(at, std::min<uint64_t>(replace, len - at), data);
          break;
        }
        case 2: {  // remove
          uint64_t n = rng() % 300;
          ASSERT_TRUE(o.Remove(at, n).ok());
          ref.erase(at, std::min<uint64_t>(n, len - at));
          break;
        }
        case 3: {  // truncate, shorter or longer
          uint64_t n = rng() % (len + 400);
          ASSERT_TRUE(o.Truncate(n).ok());
          ref.resize(n, '\0');
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
    // In place must mean exactly this: every original piece where it was.
    bool in_place = ref.size() >= original.size();
    uint64_t pos = 0;
    for (const auto& p : o.pieces()) {
      if (p.from_base && p.base_offset != pos) in_place = false;
      pos += p.length;
    }
    ASSERT_EQ(o.PreservesOffsets(), in_place) << "seed " << seed;
  }
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
