// What an ID3v2 tag holds on disk, for the foreign snapshot, independent
// of TagLib.
//
// TagLib 1.13 can skip frames on parse (after a v2.4 extended header,
// frames it fails to decode); a snapshot made only through TagLib would not
// notice. This lists the tag as parsed by id3v2_layout.h: version, header
// flags, extended header, each foreign frame's id, size and flags in file
// order, and the foreign frames' raw bytes, so a write that changes any
// byte of a foreign frame (or its order) is seen. A tag that does not parse
// is described by all of its bytes.
#ifndef NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_STRUCTURE_H_
#define NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_STRUCTURE_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <string>

namespace nomtag::plugins {

struct Id3v2Structure {
  bool present = false;
  uint64_t length = 0;        // header + body (+ footer) on disk
  std::string description;    // "2.3.0 flags=00 frames: TIT2:12:0000 ..."
  std::string foreign_bytes;  // the foreign frames' raw bytes, in order
  int foreign_frames = 0;     // frames listed in description
};

// Throws sdk::Error(NOMTAG_ERR_CORRUPT) when the tag claims more bytes
// than the stream has.
Id3v2Structure ReadId3v2Structure(const nomtag_stream* stream);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_STRUCTURE_H_
