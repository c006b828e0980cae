// A small Ogg page reader, independent of TagLib, for what TagLib does not
// expose: the raw comment packet (to count its fields) and the audio
// packets with their granule positions (the payload identity, which stays
// the same across a tag write while page sequence numbers and CRCs change).
//
// Only the first logical stream (the serial of the first page) is read.
// UNFINISHED: multiplexed or chained Ogg files (several serials) have the
// other streams' packets left out of the payload.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PACKETS_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PACKETS_H_

#include <nomtag/stream.h>

#include <cstdint>
#include <functional>
#include <string>

namespace nomtag::plugins {

// One page's header, as on disk, without its body.
struct OggPageInfo {
  uint64_t offset = 0;      // of the capture pattern
  uint8_t header_type = 0;  // continued / first / last flags
  int64_t granule = 0;
  bool first_stream = false;  // belongs to the first logical stream
  std::string lacing;         // the segment table
  uint64_t body_offset = 0;
  uint64_t body_length = 0;
};

class OggPacketReader {
 public:
  // Called for each complete packet of the first stream, numbered from 0.
  // Return false to stop the walk.
  using PacketFn = std::function<bool(uint64_t index, const std::string& data)>;
  // Called at the end of each page of the first stream, after the packets
  // completed on it, with how many completed and the page's granule.
  using PageEndFn =
      std::function<void(uint64_t packets_completed, int64_t granule)>;

  explicit OggPacketReader(const nomtag_stream* stream) : stream_(stream) {}

  // Walks the pages from the start. Throws sdk::Error(NOMTAG_ERR_CORRUPT)
  // naming the stream and offset at a page that cannot be parsed.
  void Walk(const PacketFn& on_packet, const PageEndFn& on_page_end) const;

  // Walks the page headers only (bodies are not read). Return false to
  // stop. Throws like Walk.
  using PageFn = std::function<bool(const OggPageInfo& page)>;
  void WalkPages(const PageFn& on_page) const;

  // True when the stream's last bytes are one whole page: the last "OggS"
  // within the largest page size from the end starts a page whose body
  // ends exactly at the end of the stream. Reads at most 64 KiB.
  bool EndsWithAWholePage() const;

  // The packet with this index; CORRUPT when the stream has fewer.
  std::string Packet(uint64_t index) const;

 private:
  const nomtag_stream* stream_;
};

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PACKETS_H_
