#include "ogg_payload.h"

#include <nomtag/cpp/stream.hpp>

#include "ogg_packets.h"

namespace nomtag::plugins {

namespace {

// The packet-by-packet identity: every audio packet's bytes and the
// granule of each page that completes one. Used when audio shares a page
// with the headers, which the Vorbis and Opus specifications forbid but
// files in the wild may do.
void SendAudioPackets(const nomtag_stream* stream, uint64_t header_packets,
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
}

// Packets the page completes (lacing values below 255).
uint64_t PacketsEnded(const OggPageInfo& page) {
  uint64_t ends = 0;
  for (char l : page.lacing)
    if (static_cast<uint8_t>(l) < 255) ++ends;
  return ends;
}

// True when this page of the first stream, after `completed` packets,
// ends the last header packet and carries more after it: audio sharing a
// page with the headers. REQUIRES: completed < header_packets.
bool AudioFollowsHeadersOn(const OggPageInfo& page, uint64_t completed,
                           uint64_t header_packets) {
  uint64_t seen = completed;
  size_t i = 0;
  for (; i < page.lacing.size() && seen < header_packets; ++i)
    if (static_cast<uint8_t>(page.lacing[i]) < 255) ++seen;
  return seen == header_packets && i < page.lacing.size();
}

// The coarse description: from the page after the last header packet to
// the end, as one range. False, having sent nothing, when audio shares a
// page with the headers or the stream does not end with a whole page (a
// truncated file): the exact walk then says what is wrong.
bool SendCoarse(const nomtag_stream* stream, uint64_t header_packets,
                PayloadSink& sink) {
  OggPacketReader reader(stream);
  uint64_t completed = 0, audio_from = 0;
  bool found = false, shared = false;
  reader.WalkPages([&](const OggPageInfo& page) {
    if (!page.first_stream) return true;
    if (completed >= header_packets) {
      audio_from = page.offset;
      found = true;
      return false;
    }
    if (AudioFollowsHeadersOn(page, completed, header_packets)) {
      shared = true;
      return false;
    }
    completed += PacketsEnded(page);
    return true;
  });
  if (!found || shared || !reader.EndsWithAWholePage()) return false;
  sdk::StreamRef s(stream);
  sink.Bytes("ogg pages from the first audio page");
  sink.Range(audio_from, s.length() - audio_from);
  return true;
}

}  // namespace

void SendOggAudioPayload(const nomtag_stream* stream, uint64_t header_packets,
                         PayloadSink& sink) {
  if (sink.CoarseAllowed() && SendCoarse(stream, header_packets, sink)) {
    sink.Flush();
    return;
  }
  // Page by page: a tag write rewrites the header pages and renumbers the
  // rest, but every audio page keeps its flags, granule, segment table
  // and body. Bodies go as ranges of the stream, so the host can prove
  // them unchanged from the overlay's mapping without reading the audio.
  uint64_t completed = 0;
  bool audio_on_header_page = false;
  OggPacketReader reader(stream);
  reader.WalkPages([&](const OggPageInfo& page) {
    if (!page.first_stream) return true;
    if (completed >= header_packets) {
      std::string meta(1, static_cast<char>(page.header_type));
      for (int b = 0; b < 8; ++b)
        meta.push_back(static_cast<char>(
            (static_cast<uint64_t>(page.granule) >> (8 * b)) & 0xff));
      meta += page.lacing;
      sink.Bytes(meta);
      sink.Range(page.body_offset, page.body_length);
    } else if (AudioFollowsHeadersOn(page, completed, header_packets)) {
      audio_on_header_page = true;
      return false;
    }
    completed += PacketsEnded(page);
    return true;
  });
  if (audio_on_header_page) {
    SendAudioPackets(stream, header_packets, sink);
  }
  sink.Flush();
}

}  // namespace nomtag::plugins
