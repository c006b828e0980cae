// A raw walk of an ID3v2 tag's frame headers, independent of TagLib.
//
// TagLib 1.13 can skip frames on parse (after a v2.4 extended header,
// frames it fails to decode) and would then drop them on save; a snapshot
// made only through TagLib would not notice. This walk lists what is on
// disk: version, header flags, and each frame's id, flags and size (text
// frames without trailing terminators), our own TXXX frames left out,
// sorted by id (frame order carries no meaning in ID3v2).
#ifndef NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_STRUCTURE_H_
#define NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_STRUCTURE_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <string>

namespace nomtag::plugins {

struct Id3v2Structure {
  bool present = false;
  uint64_t length = 0;      // header + body (+ footer) on disk
  std::string description;  // "2.3 flags=00 frames: TIT2:12 TPE1:8 ..."
  int foreign_frames = 0;   // frames listed in description
};

// Throws sdk::Error(NOMTAG_ERR_CORRUPT) when the tag claims more bytes
// than the stream has.
Id3v2Structure ReadId3v2Structure(const nomtag_stream* stream);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_STRUCTURE_H_
