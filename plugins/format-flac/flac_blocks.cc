#include "flac_blocks.h"

#include <nomtag/cpp/stream.hpp>

#include "taglib-common/plugin_support.h"

namespace nomtag::plugins {
namespace {

// Length of an ID3v2 tag at the start (header, body, optional footer).
uint64_t Id3v2Length(const sdk::StreamRef& s) {
  std::vector<uint8_t> h = s.read(0, 10);
  if (h.size() < 10 || h[0] != 'I' || h[1] != 'D' || h[2] != '3') return 0;
  uint64_t size = (uint64_t(h[6] & 0x7f) << 21) |
                  (uint64_t(h[7] & 0x7f) << 14) | (uint64_t(h[8] & 0x7f) << 7) |
                  uint64_t(h[9] & 0x7f);
  return 10 + size + ((h[5] & 0x10) ? 10 : 0);
}

bool HasMagicAt(const sdk::StreamRef& s, uint64_t at) {
  std::vector<uint8_t> m = s.read(at, 4);
  return m.size() == 4 && m[0] == 'f' && m[1] == 'L' && m[2] == 'a' &&
         m[3] == 'C';
}

}  // namespace

bool LooksLikeFlac(const nomtag_stream* stream) {
  sdk::StreamRef s(stream);
  return HasMagicAt(s, Id3v2Length(s));
}

FlacLayout ReadFlacLayout(const nomtag_stream* stream) {
  sdk::StreamRef s(stream);
  FlacLayout layout;
  layout.id3v2_length = Id3v2Length(s);
  if (!HasMagicAt(s, layout.id3v2_length))
    Fail(NOMTAG_ERR_UNSUPPORTED, stream, "not a FLAC file (no fLaC marker)");
  const uint64_t total = s.length();
  uint64_t at = layout.id3v2_length + 4;
  for (bool last = false; !last;) {
    std::vector<uint8_t> h = s.read(at, 4);
    if (h.size() < 4)
      Fail(NOMTAG_ERR_CORRUPT, stream,
           "truncated FLAC metadata block header at offset " +
               std::to_string(at));
    last = (h[0] & 0x80) != 0;
    uint32_t len = (uint32_t(h[1]) << 16) | (uint32_t(h[2]) << 8) | h[3];
    if (at + 4 + len > total)
      Fail(NOMTAG_ERR_CORRUPT, stream,
           "FLAC metadata block at offset " + std::to_string(at) +
               " runs past the end of the file");
    std::vector<uint8_t> body = s.read(at + 4, len);
    layout.blocks.push_back(
        {h[0] & 0x7f, at, std::string(body.begin(), body.end())});
    at += 4 + len;
  }
  if (layout.blocks.empty() || layout.blocks[0].type != 0)
    Fail(NOMTAG_ERR_CORRUPT, stream, "FLAC file without STREAMINFO first");
  layout.frames_offset = at;
  layout.frames_end = total;
  if (total >= at + 128) {
    std::vector<uint8_t> t = s.read(total - 128, 3);
    if (t.size() == 3 && t[0] == 'T' && t[1] == 'A' && t[2] == 'G') {
      layout.has_id3v1 = true;
      layout.frames_end = total - 128;
    }
  }
  if (layout.frames_end <= layout.frames_offset)
    Fail(NOMTAG_ERR_CORRUPT, stream, "FLAC file without audio frames");
  return layout;
}

}  // namespace nomtag::plugins
