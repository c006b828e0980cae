// Walks the packets of an Ogg stream, page by page, straight from the
// bytes: the format plugins need the raw header packets (to snapshot what
// TagLib does not model) and the audio packets with their granule
// positions (the payload, which a tag write must leave alone although the
// pages carrying it get new sequence numbers and CRCs).
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PACKETS_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PACKETS_H_

#include <cstdint>
#include <functional>
#include <nomtag/cpp/stream.hpp>
#include <string>

namespace nomtag::taglib {

struct OggPacket {
  size_t index = 0;      // 0-based, within the first logical stream
  std::string data;      // the whole packet, reassembled across pages
  uint64_t granule = 0;  // granule position of the page it ends on
};

// Calls fn for each complete packet of the first logical stream, in
// order; fn returns false to stop. Pages of other logical streams are
// passed to other_page (may be empty) as their raw body. Throws
// sdk::Error(NOMTAG_ERR_CORRUPT) on a broken page.
void ForEachOggPacket(
    const sdk::StreamRef& stream,
    const std::function<bool(const OggPacket&)>& fn,
    const std::function<void(uint64_t granule, const std::string& body)>&
        other_page = nullptr);

}  // namespace nomtag::taglib

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_PACKETS_H_
