// The payload identity of an Ogg Vorbis or Opus stream.
//
// Raw pages change on every tag write that changes the comment packet's
// size (sequence numbers, CRCs, page boundaries of the header pages), so
// the identity is made of what does not: for each audio page its flags,
// granule position and segment table (as bytes) and its body (as a range
// of the stream). When audio shares a page with the headers, the audio
// packets themselves and their pages' granules (as bytes).
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
