#include "flac_blocks.h"

#include <cstring>

namespace nomtag::flac {
namespace {

// Length of an ID3v2 tag at the start of the stream, or 0.
uint64_t Id3v2Length(const sdk::StreamRef& stream) {
  std::vector<uint8_t> h = stream.read(0, 10);
  if (h.size() < 10 || std::memcmp(h.data(), "ID3", 3) != 0) return 0;
  uint64_t size = (h[6] & 0x7F) << 21 | (h[7] & 0x7F) << 14 |
                  (h[8] & 0x7F) << 7 | (h[9] & 0x7F);
  bool footer = h[5] & 0x10;
  return 10 + size + (footer ? 10 : 0);
}

}  // namespace

bool LooksLikeFlac(const sdk::StreamRef& stream) {
  std::vector<uint8_t> magic = stream.read(Id3v2Length(stream), 4);
  return magic.size() == 4 && std::memcmp(magic.data(), "fLaC", 4) == 0;
}

FlacLayout ReadFlacLayout(const sdk::StreamRef& stream) {
  FlacLayout layout;
  const uint64_t end = stream.length();
  layout.prefix_length = Id3v2Length(stream);
  std::vector<uint8_t> magic = stream.read(layout.prefix_length, 4);
  if (magic.size() != 4 || std::memcmp(magic.data(), "fLaC", 4) != 0)
    throw sdk::Error(NOMTAG_ERR_CORRUPT,
                     std::string(stream.name()) + ": not a FLAC file");
  uint64_t at = layout.prefix_length + 4;
  bool last = false;
  while (!last) {
    std::vector<uint8_t> h = stream.read(at, 4);
    if (h.size() != 4)
      throw sdk::Error(NOMTAG_ERR_CORRUPT, std::string(stream.name()) +
                                               ": FLAC metadata is truncated");
    last = h[0] & 0x80;
    MetadataBlock block;
    block.type = h[0] & 0x7F;
    block.offset = at + 4;
    block.length = h[1] << 16 | h[2] << 8 | h[3];
    if (block.offset + block.length > end)
      throw sdk::Error(NOMTAG_ERR_CORRUPT,
                       std::string(stream.name()) +
                           ": a FLAC metadata block runs past the end");
    layout.blocks.push_back(block);
    at = block.offset + block.length;
  }
  if (layout.blocks.empty() || layout.blocks[0].type != kStreamInfo)
    throw sdk::Error(
        NOMTAG_ERR_CORRUPT,
        std::string(stream.name()) + ": FLAC does not start with STREAMINFO");
  layout.audio_start = at;
  layout.audio_end = end;
  if (end >= at + 128) {
    std::vector<uint8_t> tail = stream.read(end - 128, 3);
    if (tail.size() == 3 && std::memcmp(tail.data(), "TAG", 3) == 0) {
      layout.has_id3v1 = true;
      layout.audio_end = end - 128;
    }
  }
  return layout;
}

}  // namespace nomtag::flac
