// The layout of a FLAC file, read from its bytes: an optional ID3v2 tag
// in front, "fLaC", metadata blocks, audio frames, an optional ID3v1 tag
// at the end.
#ifndef NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_BLOCKS_H_
#define NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_BLOCKS_H_

#include <cstdint>
#include <nomtag/cpp/stream.hpp>
#include <string>
#include <vector>

namespace nomtag::flac {

enum BlockType : uint8_t {
  kStreamInfo = 0,
  kPadding = 1,
  kVorbisComment = 4,
};

struct MetadataBlock {
  uint8_t type = 0;
  uint64_t offset = 0;  // of the block's body
  uint32_t length = 0;
};

struct FlacLayout {
  uint64_t prefix_length = 0;  // ID3v2 tag before "fLaC", if any
  std::vector<MetadataBlock> blocks;
  uint64_t audio_start = 0;
  uint64_t audio_end = 0;  // before an ID3v1 tag, if any
  bool has_id3v1 = false;
};

// Throws sdk::Error(NOMTAG_ERR_CORRUPT) when the bytes are not FLAC or the
// metadata runs past the end of the stream.
FlacLayout ReadFlacLayout(const sdk::StreamRef& stream);

// True when the stream starts (after an optional ID3v2 tag) with "fLaC".
bool LooksLikeFlac(const sdk::StreamRef& stream);

}  // namespace nomtag::flac

#endif  // NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_BLOCKS_H_
