// The payload identity of an Ogg Vorbis or Opus stream.
//
// Raw pages change on every tag write that changes the comment packet's
// size (sequence numbers, CRCs, page boundaries of the header pages), so
// the identity is made of what does not: for each audio page its flags,
// granule position and segment table (as bytes) and its body (as a range
// of the stream). When audio shares a page with the headers, the audio
// packets themselves and their pages' granules (as bytes).
//
// Finding the audio pages means reading every page header, which is the
// whole file. When the host allows a coarse description, the stream from
// the first audio page to its end goes as one range instead, found from
// the header pages alone: a write that left those bytes untouched (an
// in-place write of the comment) is proven by the overlay's mapping
// without reading the audio; one that renumbered the pages is not, and
// the host asks again for the exact identity.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PAYLOAD_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PAYLOAD_H_

#include <nomtag/stream.h>

#include <cstdint>

#include "sinks.h"

namespace nomtag::plugins {

// Sends the payload identity of the pages after the first header_packets
// packets. Throws sdk::Error(NOMTAG_ERR_CORRUPT) for a broken page.
void SendOggAudioPayload(const nomtag_stream* stream, uint64_t header_packets,
                         PayloadSink& sink);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PAYLOAD_H_
