#include "id3v2_structure.h"

#include <cstdio>
#include <nomtag/cpp/stream.hpp>
#include <vector>

#include "id3v2_layout.h"
#include "taglib-common/plugin_support.h"

namespace nomtag::plugins {

Id3v2Structure ReadId3v2Structure(const nomtag_stream* stream) {
  sdk::StreamRef s(stream);
  Id3v2Structure out;
  std::vector<uint8_t> h = s.read(0, 10);
  if (h.size() < 10 || h[0] != 'I' || h[1] != 'D' || h[2] != '3') return out;
  const uint32_t size = (uint32_t(h[6] & 0x7f) << 21) |
                        (uint32_t(h[7] & 0x7f) << 14) |
                        (uint32_t(h[8] & 0x7f) << 7) | uint32_t(h[9] & 0x7f);
  out.present = true;
  out.length = 10 + uint64_t(size) + ((h[3] == 4 && (h[5] & 0x10)) ? 10 : 0);
  if (out.length > s.length())
    Fail(NOMTAG_ERR_CORRUPT, stream,
         "ID3v2 tag claims " + std::to_string(out.length) +
             " bytes but the file has only " + std::to_string(s.length()) +
             " (truncated file?)");
  std::vector<uint8_t> tag = s.read(0, out.length);
  char head[48];
  std::snprintf(head, sizeof head, "2.%d.%d flags=%02x", h[3], h[4], h[5]);
  out.description = head;
  std::string why;
  std::optional<Id3v2Layout> layout = ParseId3v2Layout(tag, &why);
  if (!layout) {
    out.description += " unparsed (" + why + ")";
    out.foreign_bytes.assign(tag.begin(), tag.end());
    out.foreign_frames = 1;
    return out;
  }
  if (layout->ext_size)
    out.description += " ext:" + std::to_string(layout->ext_size);
  out.description += " frames:";
  for (const Id3v2Frame& f : layout->frames) {
    if (f.ours) continue;
    char text[48];
    std::snprintf(text, sizeof text, " %s:%zu:%04x", f.id.c_str(),
                  f.end - f.begin, f.flags);
    out.description += text;
    out.foreign_bytes.append(reinterpret_cast<const char*>(&tag[f.raw_begin]),
                             f.raw_end - f.raw_begin);
    ++out.foreign_frames;
  }
  return out;
}

}  // namespace nomtag::plugins
