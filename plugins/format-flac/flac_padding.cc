#include "flac_padding.h"

#include <nomtag/cpp/stream.hpp>
#include <vector>

#include "flac_blocks.h"

namespace nomtag::plugins {
namespace {

constexpr int kPadding = 1;
constexpr uint64_t kMaxBlock = (1u << 24) - 1;

}  // namespace

void EnsureFlacPadding(const nomtag_stream* stream,
                       uint64_t original_frames_offset, uint32_t padding) {
  FlacLayout layout = ReadFlacLayout(stream);
  if (layout.frames_offset == original_frames_offset) return;  // in place
  sdk::StreamRef s(stream);
  const FlacBlock& last = layout.blocks.back();
  const bool padded = last.type == kPadding;
  const uint64_t have = padded ? last.body.size() : 0;
  const uint64_t header = padded ? 0 : 4;  // a new block needs its header
  uint64_t want = 0;
  if (layout.frames_offset + header <= original_frames_offset) {
    // TagLib shrank the metadata (its 1% rule, or fewer tags): fill it back
    // to its old length, so the audio stays where it was.
    want = have + (original_frames_offset - layout.frames_offset) - header;
    if (want > kMaxBlock) return;
  } else if (padding > have) {
    want = padding > kMaxBlock ? kMaxBlock : padding;
  } else {
    return;
  }
  if (padded) {
    std::vector<uint8_t> fill(want - have, 0);
    s.insert(layout.frames_offset, fill.data(), fill.size(), 0);
    const uint8_t len[3] = {uint8_t(want >> 16), uint8_t(want >> 8),
                            uint8_t(want)};
    s.write(last.offset + 1, len, 3);
    return;
  }
  // A new last block: clear the old last block's flag, append PADDING.
  std::vector<uint8_t> block(4 + want, 0);
  block[0] = 0x80 | kPadding;
  block[1] = uint8_t(want >> 16);
  block[2] = uint8_t(want >> 8);
  block[3] = uint8_t(want);
  s.insert(layout.frames_offset, block.data(), block.size(), 0);
  const uint8_t flag = static_cast<uint8_t>(last.type & 0x7f);
  s.write(last.offset, &flag, 1);
}

}  // namespace nomtag::plugins
