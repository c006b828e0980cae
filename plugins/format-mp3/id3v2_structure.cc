#include "id3v2_structure.h"

#include <algorithm>
#include <cstdio>
#include <nomtag/cpp/stream.hpp>
#include <vector>

#include "taglib-common/nom_keys.h"
#include "taglib-common/plugin_support.h"

namespace nomtag::plugins {
namespace {

uint32_t SyncSafe(const uint8_t* p) {
  return (uint32_t(p[0] & 0x7f) << 21) | (uint32_t(p[1] & 0x7f) << 14) |
         (uint32_t(p[2] & 0x7f) << 7) | uint32_t(p[3] & 0x7f);
}

uint32_t Be(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// True for a TXXX body whose description is one of ours. Only plain
// (unflagged) frames are decoded; anything else counts as foreign, which
// errs on the side of keeping it.
bool IsOurTxxx(const uint8_t* body, size_t len) {
  if (len < 2) return false;
  const uint8_t enc = body[0];
  std::string desc;
  if (enc == 0 || enc == 3) {
    for (size_t i = 1; i < len && body[i] != 0; ++i)
      desc += static_cast<char>(body[i]);
  } else {
    // UTF-16 with or without BOM: ours is plain ASCII, so keep the
    // low-order byte of each unit and give up on anything wider.
    size_t i = 1;
    bool big = enc == 2;
    if (enc == 1 && len >= 3) {
      big = body[1] == 0xFE && body[2] == 0xFF;
      i = 3;
    }
    for (; i + 1 < len; i += 2) {
      uint16_t u =
          big ? (body[i] << 8) | body[i + 1] : (body[i + 1] << 8) | body[i];
      if (u == 0) break;
      if (u > 0x7f) return false;
      desc += static_cast<char>(u);
    }
  }
  return ParseId3Description(desc).has_value();
}

}  // namespace

Id3v2Structure ReadId3v2Structure(const nomtag_stream* stream) {
  sdk::StreamRef s(stream);
  Id3v2Structure out;
  std::vector<uint8_t> h = s.read(0, 10);
  if (h.size() < 10 || h[0] != 'I' || h[1] != 'D' || h[2] != '3') return out;
  const int major = h[3];
  const uint8_t flags = h[5];
  out.present = true;
  out.length = 10 + uint64_t(SyncSafe(&h[6])) + ((flags & 0x10) ? 10 : 0);
  if (out.length > s.length())
    Fail(NOMTAG_ERR_CORRUPT, stream,
         "ID3v2 tag claims " + std::to_string(out.length) +
             " bytes but the file has only " + std::to_string(s.length()) +
             " (truncated file?)");
  std::vector<uint8_t> tag = s.read(0, out.length);
  char head[48];
  std::snprintf(head, sizeof head, "2.%d.%d flags=%02x frames:", major, h[4],
                flags);
  out.description = head;
  const size_t id_len = major == 2 ? 3 : 4;
  const size_t hdr_len = major == 2 ? 6 : 10;
  size_t at = 10;
  if (major >= 3 && (flags & 0x40) && tag.size() >= 14) {
    // Extended header: v2.3 gives its size without the size field, v2.4
    // as a sync-safe total.
    uint32_t ext = major == 3 ? Be(&tag[10], 4) + 4 : SyncSafe(&tag[10]);
    out.description += " ext:" + std::to_string(ext);
    at += ext;
  }
  const size_t body_end = 10 + SyncSafe(&h[6]);
  std::vector<std::pair<std::string, std::string>> frames;  // id, text
  while (at + hdr_len <= body_end && tag[at] != 0) {
    std::string id(reinterpret_cast<const char*>(&tag[at]), id_len);
    uint32_t size = major == 2   ? Be(&tag[at + 3], 3)
                    : major == 4 ? SyncSafe(&tag[at + 4])
                                 : Be(&tag[at + 4], 4);
    uint16_t fflags = major == 2 ? 0 : uint16_t(Be(&tag[at + 8], 2));
    size_t body = at + hdr_len;
    size_t avail = body <= body_end ? body_end - body : 0;
    bool ours = id == "TXXX" && fflags == 0 &&
                IsOurTxxx(&tag[body], std::min<size_t>(size, avail));
    if (!ours) {
      // Text frames, comments and lyrics: TagLib drops the optional
      // trailing terminator that other taggers write (ffmpeg after text
      // frames, mutagen after COMM text); that is no change of the text,
      // so the size is counted without trailing NULs. (The frames' contents
      // are compared in full by the per-frame items.) Everything else
      // counts byte for byte.
      uint32_t counted = std::min<size_t>(size, avail);
      bool text_like = id[0] == 'T' || id == "COMM" || id == "USLT";
      if (text_like && fflags == 0)
        while (counted > 1 && tag[body + counted - 1] == 0) --counted;
      char f[48];
      std::snprintf(f, sizeof f, " %s:%u:%04x", id.c_str(), counted, fflags);
      frames.emplace_back(id, f);
    }
    if (size > avail) {
      frames.emplace_back("~", " (frame runs past the tag)");
      break;
    }
    at = body + size;
  }
  // Frame order carries no meaning in ID3v2, and TagLib's v2.3 save moves
  // the frames it converts back from v2.4 (TYER, TDAT, ...) to the end.
  std::stable_sort(
      frames.begin(), frames.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [id, text] : frames) out.description += text;
  out.foreign_frames = static_cast<int>(frames.size());
  return out;
}

}  // namespace nomtag::plugins
