// A FLAC metadata-block walker, independent of TagLib: where the blocks
// are, their types and raw bytes, and where the audio frames start. Used
// for the foreign snapshot (every block TagLib might drop shows up raw)
// and for the audio payload.
#ifndef NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_BLOCKS_H_
#define NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_BLOCKS_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nomtag::plugins {

struct FlacBlock {
  int type;          // 0 STREAMINFO, 1 PADDING, 4 VORBIS_COMMENT, 6 PICTURE...
  uint64_t offset;   // of the 4-byte block header
  std::string body;  // the block's data, without its header
};

struct FlacLayout {
  uint64_t id3v2_length = 0;  // an ID3v2 tag before "fLaC", if any
  std::vector<FlacBlock> blocks;
  uint64_t frames_offset = 0;  // first byte after the last block
  uint64_t frames_end = 0;     // stream end, before an ID3v1 trailer
  bool has_id3v1 = false;
};

// True when the stream starts with "fLaC", possibly after an ID3v2 tag.
bool LooksLikeFlac(const nomtag_stream* stream);

// Throws sdk::Error(NOMTAG_ERR_CORRUPT) naming the stream and the offset
// when the block chain is broken or truncated.
FlacLayout ReadFlacLayout(const nomtag_stream* stream);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_BLOCKS_H_
