// The comment packet of an Ogg Vorbis or Opus stream, as bytes: the
// comment proper, then whatever follows it.
//
// What follows the comment is padding when every byte of it is zero. Opus
// allows it outright (RFC 7845, 5.2: the comment header "MAY contain
// zero-padding"); Vorbis decoders stop reading at the framing bit
// (libvorbis, ffmpeg) and mutagen pads Vorbis comments the same way.
// Padding is ours to grow and shrink: a packet that keeps its size keeps
// the Ogg page layout, so the write is patched in place.
//
// Anything else after the comment is somebody's data (RFC 7845 asks
// editors to keep a suffix whose first byte has its low bit set) and is
// kept byte for byte; such a packet gets no padding.
//
// TagLib 1.13 renders neither: its save writes the bare comment, which is
// why the plugins build the packet here and hand it to Ogg::File.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_COMMENT_PACKET_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_COMMENT_PACKET_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace nomtag::plugins {

// Padding left when the packet has to grow and the host did not say how
// much: room for a few dozen more tags.
inline constexpr uint32_t kDefaultOggPadding = 1024;

// What follows the comment in `packet` (which opens with `magic`); with
// `framing`, the byte after the last field is the framing bit and belongs
// to the comment. Empty when nothing follows or the comment is malformed
// (then TagLib's parse decides what the comment is).
std::string_view CommentSuffix(std::string_view packet, std::string_view magic,
                               bool framing);

// True when the suffix is padding (every byte zero; empty is too).
bool IsPadding(std::string_view suffix);

// The packet to write: `magic`, the comment as TagLib rendered it, a kept
// suffix or padding. With padding, the packet keeps `old_packet`'s size
// when the comment fits in it, else it gets `padding` bytes of room
// (kDefaultOggPadding when 0).
std::string BuildCommentPacket(std::string_view magic,
                               std::string_view rendered_comment,
                               std::string_view old_packet, bool framing,
                               uint32_t padding);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_COMMENT_PACKET_H_
