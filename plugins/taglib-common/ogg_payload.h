// The payload identity of an Ogg Vorbis or Opus stream.
//
// Raw pages change on every tag write that changes the comment packet's
// size (sequence numbers, CRCs, page boundaries of the header pages), so
// the identity is made of what does not: the audio packets and the
// granule positions of the pages that complete them.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PAYLOAD_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PAYLOAD_H_

#include <nomtag/stream.h>

#include <cstdint>

#include "sinks.h"

namespace nomtag::plugins {

// Sends every packet after the first header_packets, as bytes, and after
// each page that completed one, its granule position (8 bytes,
// little-endian). Throws sdk::Error(NOMTAG_ERR_CORRUPT) for a broken page.
void SendOggAudioPayload(const nomtag_stream* stream, uint64_t header_packets,
                         PayloadSink& sink);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PAYLOAD_H_
