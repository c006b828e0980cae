#include "id3v2_layout.h"

#include <algorithm>
#include <cstdio>

#include "taglib-common/nom_keys.h"

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

bool IdChar(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool ValidId(const std::vector<uint8_t>& s, size_t at, size_t len) {
  if (at + len > s.size()) return false;
  for (size_t i = 0; i < len; ++i)
    if (!IdChar(s[at + i])) return false;
  return true;
}

std::string Num(size_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%zu", v);
  return b;
}

// Undoes unsynchronisation: drops the zero after each 0xFF. raw_of gets
// the raw offset of each decoded byte (base added) and of the end.
std::vector<uint8_t> Resynchronise(const uint8_t* raw, size_t len, size_t base,
                                   std::vector<size_t>* raw_of) {
  std::vector<uint8_t> out;
  out.reserve(len);
  raw_of->clear();
  for (size_t i = 0; i < len; ++i) {
    out.push_back(raw[i]);
    raw_of->push_back(base + i);
    if (raw[i] == 0xFF && i + 1 < len && raw[i + 1] == 0) ++i;
  }
  raw_of->push_back(base + len);
  return out;
}

// The size of the 2.4 frame at `at`. iTunes wrote plain big-endian sizes
// into 2.4 tags; a size that is not sync-safe, or whose sync-safe reading
// lands on no frame while the plain one does, is read plain (TagLib does
// the same).
uint32_t FrameSize24(const std::vector<uint8_t>& s, size_t at, size_t end) {
  const uint8_t* p = &s[at + 4];
  const uint32_t plain = Be(p, 4);
  if ((p[0] | p[1] | p[2] | p[3]) & 0x80) return plain;
  const uint32_t safe = SyncSafe(p);
  auto lands = [&](uint64_t size) {
    uint64_t next = at + 10 + size;
    return next == end || (next < end && (s[next] == 0 || ValidId(s, next, 4)));
  };
  if (safe != plain && !lands(safe) && lands(plain)) return plain;
  return safe;
}

}  // namespace

int Id3v2Layout::foreign_frames() const {
  return static_cast<int>(std::count_if(frames.begin(), frames.end(),
                                        [](const auto& f) { return !f.ours; }));
}

std::vector<uint8_t> Unsynchronise(const uint8_t* data, size_t len) {
  std::vector<uint8_t> out;
  out.reserve(len + len / 64);
  for (size_t i = 0; i < len; ++i) {
    out.push_back(data[i]);
    if (data[i] == 0xFF &&
        (i + 1 == len || data[i + 1] >= 0xE0 || data[i + 1] == 0))
      out.push_back(0);
  }
  return out;
}

bool IsOurTxxxBody(const uint8_t* body, size_t len) {
  if (len < 2) return false;
  const uint8_t enc = body[0];
  std::string desc;
  if (enc == 0 || enc == 3) {
    for (size_t i = 1; i < len && body[i] != 0; ++i)
      desc += static_cast<char>(body[i]);
  } else if (enc == 1 || enc == 2) {
    // UTF-16 with or without BOM: ours is plain ASCII, so keep the
    // low-order byte of each unit and give up on anything wider.
    size_t i = 1;
    bool big = enc == 2;
    if (enc == 1 && len >= 3) {
      big = body[1] == 0xFE && body[2] == 0xFF;
      if ((body[1] == 0xFE && body[2] == 0xFF) ||
          (body[1] == 0xFF && body[2] == 0xFE))
        i = 3;
    }
    for (; i + 1 < len; i += 2) {
      uint16_t u =
          big ? (body[i] << 8) | body[i + 1] : (body[i + 1] << 8) | body[i];
      if (u == 0) break;
      if (u > 0x7f) return false;
      desc += static_cast<char>(u);
    }
  } else {
    return false;
  }
  return ParseId3Description(desc).has_value();
}

std::optional<Id3v2Layout> ParseId3v2Layout(const std::vector<uint8_t>& tag,
                                            std::string* why) {
  auto refuse = [&](std::string reason) -> std::optional<Id3v2Layout> {
    *why = std::move(reason);
    return std::nullopt;
  };
  if (tag.size() < 10 || tag[0] != 'I' || tag[1] != 'D' || tag[2] != '3')
    return refuse("no ID3v2 header");
  Id3v2Layout l;
  l.major = tag[3];
  l.flags = tag[5];
  if (l.major < 2 || l.major > 4)
    return refuse("ID3v2." + std::to_string(l.major) +
                  " is not a version nomtag can write (2.2, 2.3, 2.4)");
  if (tag[4] == 0xFF) return refuse("ID3v2 revision 0xFF is invalid");
  const uint8_t known = l.major == 2 ? 0x80 : l.major == 3 ? 0xE0 : 0xF0;
  if (l.flags & ~known) {
    char b[8];
    std::snprintf(b, sizeof b, "%02x", l.flags);
    return refuse(std::string("ID3v2 header flags ") + b + " are undefined");
  }
  if (l.major == 2 && (l.flags & 0x40))
    return refuse("ID3v2.2 compression has no defined scheme");
  if ((tag[6] | tag[7] | tag[8] | tag[9]) & 0x80)
    return refuse("ID3v2 tag size is not sync-safe");
  l.body_size = SyncSafe(&tag[6]);
  l.footer = l.major == 4 && (l.flags & 0x10);
  if (tag.size() != 10 + l.body_size + (l.footer ? 10 : 0))
    return refuse("ID3v2 tag length does not match its header");

  const uint8_t* body = tag.data() + 10;
  if (l.unsync() && l.major < 4) {
    l.space = Resynchronise(body, l.body_size, 10, &l.raw_of);
  } else {
    l.space.assign(body, body + l.body_size);
  }
  const std::vector<uint8_t>& s = l.space;

  size_t at = 0;
  if (l.major >= 3 && (l.flags & 0x40)) {
    if (s.size() < 6) return refuse("ID3v2 extended header is cut short");
    if (l.major == 3) {
      // Size (without itself: 6, or 10 with a CRC), flags, padding size.
      const uint32_t size = Be(&s[0], 4);
      const uint16_t xflags = uint16_t(Be(&s[4], 2));
      l.ext_crc = xflags & 0x8000;
      if ((xflags & 0x7fff) || size != (l.ext_crc ? 10u : 6u) ||
          s.size() < 4 + size)
        return refuse("ID3v2.3 extended header is malformed");
      l.ext_size = 4 + size;
      l.ext_crc_at = 10;
    } else {
      // Sync-safe total size, one flag byte, then each flag's data.
      const uint32_t size = SyncSafe(&s[0]);
      if (s[4] != 1 || size < 6 || size > s.size() || (s[5] & 0x8f))
        return refuse("ID3v2.4 extended header is malformed");
      size_t p = 6;
      const uint8_t xflags = s[5];
      const uint8_t lens[3] = {0, 5, 1};  // update, CRC, restrictions
      for (int i = 0; i < 3; ++i) {
        if (!(xflags & (0x40 >> i))) continue;
        if (p + 1 + lens[i] > size || s[p] != lens[i])
          return refuse("ID3v2.4 extended header is malformed");
        if (i == 1) l.ext_crc_at = p + 1;
        if (i == 2 && (s[p + 1] & 0xD8))
          return refuse("ID3v2.4 tag restrictions on tag or text size");
        p += 1 + lens[i];
      }
      if (p != size) return refuse("ID3v2.4 extended header is malformed");
      l.ext_crc = xflags & 0x20;
      l.ext_size = size;
    }
    at = l.ext_size;
  }

  const size_t id_len = l.major == 2 ? 3 : 4;
  const size_t head = l.major == 2 ? 6 : 10;
  const size_t end = s.size();
  while (at < end && s[at] != 0) {
    if (at + head > end || !ValidId(s, at, id_len))
      return refuse("ID3v2 bytes at body offset " + Num(at) +
                    " are neither a frame nor padding");
    Id3v2Frame f;
    f.id.assign(reinterpret_cast<const char*>(&s[at]), id_len);
    const uint32_t size = l.major == 2   ? Be(&s[at + 3], 3)
                          : l.major == 3 ? Be(&s[at + 4], 4)
                                         : FrameSize24(s, at, end);
    if (l.major > 2) f.flags = uint16_t(Be(&s[at + 8], 2));
    if (size > end - at - head)
      return refuse("ID3v2 frame " + f.id + " runs past the tag");
    f.begin = at;
    f.end = at + head + size;
    f.raw_begin = l.Raw(f.begin);
    f.raw_end = l.Raw(f.end);
    const uint8_t* b = &s[at + head];
    if (f.id == (l.major == 2 ? "TXX" : "TXXX")) {
      if (f.flags == 0) {
        f.ours = IsOurTxxxBody(b, size);
      } else if (l.major == 4 && f.flags == 0x0002) {
        // Ours in an unsynchronised 2.4 tag carry the frame's own flag.
        std::vector<size_t> unused;
        std::vector<uint8_t> plain = Resynchronise(b, size, 0, &unused);
        f.ours = IsOurTxxxBody(plain.data(), plain.size());
      }
    }
    l.frames.push_back(std::move(f));
    at += head + size;
  }
  l.frames_end = at;
  for (size_t i = at; i < end; ++i)
    if (s[i] != 0)
      return refuse("ID3v2 padding holds data at body offset " + Num(i));
  return l;
}

}  // namespace nomtag::plugins
