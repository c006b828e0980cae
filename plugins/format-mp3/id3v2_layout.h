// The layout of an ID3v2 tag (2.2, 2.3, 2.4), parsed from its bytes
// without TagLib: where each frame lies, which frames are ours, where the
// padding starts.
//
// Frames are walked in "frame space": the tag body after undoing tag-level
// unsynchronisation in 2.2 and 2.3 (whose frame sizes count decoded
// bytes). A 2.4 tag unsynchronises each frame on its own and counts raw
// bytes, so there frame space is the raw body. Each frame also carries its
// raw byte range in the tag, stuffing included, so a splice can copy every
// foreign frame byte for byte (id3v2_splice.h).
//
// A tag that cannot be spliced safely (an unknown version or flag, frames
// that run past the body, bytes that are neither a frame nor padding) is
// not parsed: the reason says which.
#ifndef NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_LAYOUT_H_
#define NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nomtag::plugins {

struct Id3v2Frame {
  std::string id;      // "TIT2"; "TT2" in 2.2
  uint16_t flags = 0;  // the frame's two flag bytes (none in 2.2)
  size_t begin = 0;    // frame header, in frame space
  size_t end = 0;      // past the body, in frame space
  size_t raw_begin = 0, raw_end = 0;  // the same frame in the tag's bytes
  bool ours = false;                  // a TXXX/TXX "nom:<key>" frame
};

struct Id3v2Layout {
  int major = 0;         // 2, 3 or 4
  uint8_t flags = 0;     // header flags: 0x80 unsync, 0x40 ext, 0x10 footer
  size_t body_size = 0;  // the header's size: ext header, frames, padding
  bool footer = false;
  // The body in frame space (see above), and for an unsynchronised
  // 2.2/2.3 body the raw offset (in the tag) of each of its bytes, plus
  // one entry for its end.
  std::vector<uint8_t> space;
  std::vector<size_t> raw_of;
  size_t ext_size = 0;    // extended header, in frame space (0: none)
  bool ext_crc = false;   // the extended header holds a CRC
  size_t ext_crc_at = 0;  // where its value starts, in frame space
  size_t frames_end = 0;  // where the padding starts, in frame space
  std::vector<Id3v2Frame> frames;

  bool unsync() const { return (flags & 0x80) != 0; }
  // The raw offset in the tag of a frame-space offset.
  size_t Raw(size_t at) const { return raw_of.empty() ? 10 + at : raw_of[at]; }
  int foreign_frames() const;
};

// tag holds the whole tag: header, body and footer. Returns nothing and
// sets *why when it cannot be spliced.
std::optional<Id3v2Layout> ParseId3v2Layout(const std::vector<uint8_t>& tag,
                                            std::string* why);

// True for a TXXX (TXX) frame body, as it is in frame space, whose
// description is "nom:<key>". Only ASCII descriptions are decoded;
// anything else is foreign, which errs on the side of keeping it.
bool IsOurTxxxBody(const uint8_t* body, size_t len);

// Tag-level unsynchronisation (ID3v2.4 section 6.1): a zero after every
// 0xFF followed by 0xE0 or more, a zero, or the end of data.
std::vector<uint8_t> Unsynchronise(const uint8_t* data, size_t len);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_FORMAT_MP3_ID3V2_LAYOUT_H_
