#include "ogg_packets.h"

#include <nomtag/cpp/stream.hpp>
#include <vector>

#include "plugin_support.h"

namespace nomtag::plugins {
namespace {

constexpr size_t kPageHeader = 27;

uint64_t Le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

uint32_t Le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24);
}

}  // namespace

void OggPacketReader::Walk(const PacketFn& on_packet,
                           const PageEndFn& on_page_end) const {
  sdk::StreamRef s(stream_);
  uint64_t index = 0;
  std::string partial;
  bool stopped = false;
  WalkPages([&](const OggPageInfo& page) {
    if (!page.first_stream) return true;
    std::vector<uint8_t> body = s.read(page.body_offset, page.body_length);
    if (body.size() < page.body_length)
      Fail(NOMTAG_ERR_CORRUPT, stream_,
           "broken Ogg page at offset " + std::to_string(page.offset) +
               ": truncated page body");
    uint64_t completed = 0;
    size_t pos = 0;
    for (char l : page.lacing) {
      const uint8_t len = static_cast<uint8_t>(l);
      partial.append(reinterpret_cast<const char*>(body.data()) + pos, len);
      pos += len;
      if (len < 255) {
        if (!on_packet(index++, partial)) {
          stopped = true;
          return false;
        }
        partial.clear();
        ++completed;
      }
    }
    if (on_page_end) on_page_end(completed, page.granule);
    return true;
  });
  if (!stopped && !partial.empty())
    Fail(NOMTAG_ERR_CORRUPT, stream_,
         "broken Ogg page at offset " + std::to_string(s.length()) +
             ": stream ends inside a packet");
}

void OggPacketReader::WalkPages(const PageFn& on_page) const {
  sdk::StreamRef s(stream_);
  const uint64_t total = s.length();
  uint64_t at = 0;
  bool have_serial = false;
  uint32_t serial = 0;
  auto corrupt = [&](const std::string& why) {
    Fail(NOMTAG_ERR_CORRUPT, stream_,
         "broken Ogg page at offset " + std::to_string(at) + ": " + why);
  };
  while (at < total) {
    std::vector<uint8_t> h = s.read(at, kPageHeader);
    if (h.size() < kPageHeader) corrupt("truncated page header");
    if (h[0] != 'O' || h[1] != 'g' || h[2] != 'g' || h[3] != 'S')
      corrupt("no OggS capture pattern");
    OggPageInfo page;
    page.offset = at;
    page.header_type = h[5];
    page.granule = static_cast<int64_t>(Le64(&h[6]));
    const uint32_t page_serial = Le32(&h[14]);
    const size_t nsegs = h[26];
    std::vector<uint8_t> lacing = s.read(at + kPageHeader, nsegs);
    if (lacing.size() < nsegs) corrupt("truncated segment table");
    page.lacing.assign(lacing.begin(), lacing.end());
    for (uint8_t l : lacing) page.body_length += l;
    page.body_offset = at + kPageHeader + nsegs;
    if (page.body_offset + page.body_length > total)
      corrupt("truncated page body");
    if (!have_serial) {
      have_serial = true;
      serial = page_serial;
    }
    page.first_stream = page_serial == serial;
    if (!on_page(page)) return;
    at = page.body_offset + page.body_length;
  }
}

bool OggPacketReader::EndsWithAWholePage() const {
  constexpr uint64_t kLargestPage = kPageHeader + 255 + 255 * 255;
  sdk::StreamRef s(stream_);
  const uint64_t total = s.length();
  const uint64_t from = total > kLargestPage ? total - kLargestPage : 0;
  std::vector<uint8_t> tail = s.read(from, total - from);
  if (tail.size() != total - from) return false;
  for (size_t i = tail.size() >= kPageHeader ? tail.size() - kPageHeader + 1
                                             : 0;
       i-- > 0;) {
    if (tail[i] != 'O' || tail[i + 1] != 'g' || tail[i + 2] != 'g' ||
        tail[i + 3] != 'S')
      continue;
    const size_t nsegs = tail[i + 26];
    if (i + kPageHeader + nsegs > tail.size()) continue;
    uint64_t body = 0;
    for (size_t k = 0; k < nsegs; ++k) body += tail[i + kPageHeader + k];
    // The last capture pattern that starts a page reaching the end; one
    // found inside audio that happens to read "OggS" does not.
    if (i + kPageHeader + nsegs + body == tail.size()) return true;
  }
  return false;
}

std::string OggPacketReader::Packet(uint64_t index) const {
  std::string found;
  bool got = false;
  Walk(
      [&](uint64_t i, const std::string& data) {
        if (i != index) return true;
        found = data;
        got = true;
        return false;
      },
      nullptr);
  if (!got)
    Fail(NOMTAG_ERR_CORRUPT, stream_,
         "Ogg stream ends before header packet " + std::to_string(index));
  return found;
}

}  // namespace nomtag::plugins
