#include "ogg_payload.h"

#include "ogg_packets.h"

namespace nomtag::plugins {

void SendOggAudioPayload(const nomtag_stream* stream, uint64_t header_packets,
                         PayloadSink& sink) {
  uint64_t audio_on_page = 0;
  OggPacketReader(stream).Walk(
      [&](uint64_t i, const std::string& data) {
        if (i >= header_packets) {
          sink.Bytes(data);
          ++audio_on_page;
        }
        return true;
      },
      [&](uint64_t, int64_t granule) {
        if (audio_on_page == 0) return;
        audio_on_page = 0;
        char le[8];
        for (int b = 0; b < 8; ++b)
          le[b] = static_cast<char>(
              (static_cast<uint64_t>(granule) >> (8 * b)) & 0xff);
        sink.Bytes(std::string_view(le, 8));
      });
  sink.Flush();
}

}  // namespace nomtag::plugins
