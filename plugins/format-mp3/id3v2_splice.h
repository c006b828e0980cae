// Splices our TXXX frames into an ID3v2 tag and touches nothing else.
//
// Every foreign frame keeps its bytes and its order; our frames (old ones
// removed) follow them, in the tag's own version (TXX in 2.2) and
// unsynchronised the way the tag is. Only what the container requires is
// fixed: the header's size (and a 2.4 footer's), the padding, and the
// extended header's padding size and CRC. A tag without a footer keeps its
// length whenever the new frames fit, so the audio does not move.
#ifndef NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_SPLICE_H_
#define NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_SPLICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "id3v2_layout.h"

namespace nomtag::plugins {

// The padding a tag gets when it has to grow and the host asked for none.
constexpr uint32_t kDefaultId3v2Padding = 1024;

// old_tag and layout: the tag on disk and its parse, or empty and null
// for a file without a tag (it gets a tag of new_major: 3 or 4). bodies: our
// frames' bodies, in frame space, encoded for the tag's version. Returns the
// new tag; empty when the file ends up without one (no tag before and none of
// ours, or a tag of only ours that is cleared). Sets *why and returns
// empty when a frame is too large for the version.
std::vector<uint8_t> SpliceId3v2(const std::vector<uint8_t>& old_tag,
                                 const Id3v2Layout* layout,
                                 const std::vector<std::string>& bodies,
                                 int new_major, uint32_t padding,
                                 std::string* why);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_SPLICE_H_
