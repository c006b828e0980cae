#include "ogg_packets.h"

#include <cstring>

namespace nomtag::taglib {
namespace {

uint64_t Le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint32_t Le32(const uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

void ForEachOggPacket(
    const sdk::StreamRef& stream,
    const std::function<bool(const OggPacket&)>& fn,
    const std::function<void(uint64_t, const std::string&)>& other_page) {
  const uint64_t end = stream.length();
  uint64_t at = 0;
  bool have_serial = false;
  uint32_t serial = 0;
  OggPacket packet;
  bool in_packet = false;
  while (at < end) {
    uint8_t header[27];
    if (stream.read_into(at, header, sizeof header) != sizeof header ||
        std::memcmp(header, "OggS", 4) != 0)
      throw sdk::Error(NOMTAG_ERR_CORRUPT,
                       std::string(stream.name()) +
                           ": no Ogg page where one should start (offset " +
                           std::to_string(at) + ")");
    const uint64_t granule = Le64(header + 6);
    const uint32_t page_serial = Le32(header + 14);
    const uint8_t segments = header[26];
    uint8_t table[255];
    if (stream.read_into(at + 27, table, segments) != segments)
      throw sdk::Error(NOMTAG_ERR_CORRUPT,
                       std::string(stream.name()) + ": truncated Ogg page");
    size_t body_len = 0;
    for (int i = 0; i < segments; ++i) body_len += table[i];
    std::vector<uint8_t> body = stream.read(at + 27 + segments, body_len);
    if (body.size() != body_len)
      throw sdk::Error(NOMTAG_ERR_CORRUPT,
                       std::string(stream.name()) + ": truncated Ogg page");
    at += 27 + segments + body_len;

    if (!have_serial) {
      have_serial = true;
      serial = page_serial;
    }
    if (page_serial != serial) {
      if (other_page)
        other_page(granule, std::string(body.begin(), body.end()));
      continue;
    }
    size_t offset = 0;
    for (int i = 0; i < segments; ++i) {
      packet.data.append(reinterpret_cast<const char*>(body.data()) + offset,
                         table[i]);
      offset += table[i];
      in_packet = true;
      if (table[i] < 255) {  // a lacing value under 255 ends the packet
        packet.granule = granule;
        if (!fn(packet)) return;
        ++packet.index;
        packet.data.clear();
        in_packet = false;
      }
    }
  }
  if (in_packet && !packet.data.empty()) {
    // The stream ends inside a packet: report it as it is, so that a
    // truncated tail still counts as payload.
    packet.granule = ~uint64_t{0};
    fn(packet);
  }
}

}  // namespace nomtag::taglib
