// Splices our fields into the FLAC VORBIS_COMMENT block and touches
// nothing else.
//
// The vendor string and every foreign field keep their bytes and their
// order (TagLib would re-render the block: fields regrouped by name, a
// field without '=' dropped); our fields (old ones removed) follow them,
// as NOM:<KEY>=value, one per value. Every other block (STREAMINFO,
// SEEKTABLE, APPLICATION, PICTURE, CUESHEET) keeps its bytes; only block
// headers (a length, the last-block flag) and PADDING change. A file
// without a comment block gets one after STREAMINFO, with an empty vendor.
//
// PADDING absorbs the change: a comment that grows takes from it, one that
// shrinks gives to it, so the audio does not move. When there is not
// enough, the last block becomes a PADDING block of what the host asked
// for (kDefaultFlacPadding when 0).
#ifndef NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_SPLICE_H_
#define NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_SPLICE_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <vector>

#include "flac_blocks.h"
#include "taglib-common/plugin_support.h"

namespace nomtag::plugins {

inline constexpr uint32_t kDefaultFlacPadding = 4096;

// Throws sdk::Error (REFUSED) naming why for a layout it cannot splice: a
// malformed comment block, two comment blocks, a block past 16 MiB.
void SpliceFlacComment(const nomtag_stream* stream, const FlacLayout& layout,
                       const std::vector<DesiredTag>& desired,
                       uint32_t padding);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_FLAC_FLAC_SPLICE_H_
