#include "id3v2_splice.h"

#include <algorithm>
#include <array>

namespace nomtag::plugins {
namespace {

uint32_t Crc32(const uint8_t* data, size_t len) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void PutBe(uint8_t* p, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = uint8_t(v);
}

void PutSyncSafe(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; --i, v >>= 7) p[i] = uint8_t(v & 0x7f);
}

void Append(std::vector<uint8_t>* out, const uint8_t* p, size_t n) {
  out->insert(out->end(), p, p + n);
}

}  // namespace

std::vector<uint8_t> SpliceId3v2(const std::vector<uint8_t>& old_tag,
                                 const Id3v2Layout* layout,
                                 const std::vector<std::string>& bodies,
                                 int new_major, uint32_t padding,
                                 std::string* why) {
  why->clear();
  if (layout == nullptr && bodies.empty()) return {};
  // A tag of only ours, cleared, goes as a whole (as TagLib always did):
  // the file is as it was before nomtag's first write.
  if (layout != nullptr && bodies.empty() && layout->foreign_frames() == 0)
    return {};
  const int major = layout ? layout->major : new_major;
  const bool unsync = layout && layout->unsync();
  const bool whole_body_unsync = unsync && major < 4;

  // Our frames in frame space (2.4: each unsynchronised on its own).
  std::vector<uint8_t> ours;
  for (const std::string& text : bodies) {
    std::vector<uint8_t> body(text.begin(), text.end());
    uint16_t flags = 0;
    if (major == 4 && unsync) {
      body = Unsynchronise(body.data(), body.size());
      flags = 0x0002;
    }
    const uint64_t limit = major == 2 ? (1u << 24) : (1u << 28);
    if (body.size() >= limit) {
      *why = "a nom value is too large for an ID3v2 frame";
      return {};
    }
    uint8_t head[10] = {};
    size_t head_len = 10;
    if (major == 2) {
      std::copy_n("TXX", 3, head);
      PutBe(head + 3, uint32_t(body.size()), 3);
      head_len = 6;
    } else {
      std::copy_n("TXXX", 4, head);
      if (major == 3)
        PutBe(head + 4, uint32_t(body.size()), 4);
      else
        PutSyncSafe(head + 4, uint32_t(body.size()));
      PutBe(head + 8, flags, 2);
    }
    Append(&ours, head, head_len);
    Append(&ours, body.data(), body.size());
  }

  // Foreign frames: raw bytes as they are; in frame space for a 2.3 CRC.
  std::vector<uint8_t> frames_raw, frames_space;
  if (layout != nullptr) {
    for (const Id3v2Frame& f : layout->frames) {
      if (f.ours) continue;
      Append(&frames_raw, old_tag.data() + f.raw_begin,
             f.raw_end - f.raw_begin);
      if (major == 3 && layout->ext_crc)
        Append(&frames_space, layout->space.data() + f.begin, f.end - f.begin);
    }
  }
  if (whole_body_unsync) {
    std::vector<uint8_t> u = Unsynchronise(ours.data(), ours.size());
    Append(&frames_raw, u.data(), u.size());
  } else {
    Append(&frames_raw, ours.data(), ours.size());
  }
  Append(&frames_space, ours.data(), ours.size());

  // The extended header, with its padding size (2.3) and CRC updated. Its
  // raw length can change with unsynchronisation, which changes the
  // padding: settle both in a few rounds.
  std::vector<uint8_t> ext;
  if (layout != nullptr)
    ext.assign(layout->space.begin(), layout->space.begin() + layout->ext_size);
  const bool footer = layout && layout->footer;
  uint64_t pad = 0;
  std::vector<uint8_t> ext_raw = ext;
  for (int round = 0;; ++round) {
    if (round == 4) {
      *why = "ID3v2 extended header does not settle under unsynchronisation";
      return {};
    }
    const uint64_t content = ext_raw.size() + frames_raw.size();
    uint64_t new_pad;
    if (footer) {
      new_pad = 0;  // 2.4: no padding when a footer is present
    } else if (layout != nullptr && content <= layout->body_size) {
      new_pad = layout->body_size - content;  // keep the length: in place
    } else {
      new_pad = padding ? padding : kDefaultId3v2Padding;
    }
    if (!ext.empty() && major == 3) PutBe(&ext[6], uint32_t(new_pad), 4);
    if (!ext.empty() && layout->ext_crc) {
      if (major == 3) {
        PutBe(&ext[layout->ext_crc_at],
              Crc32(frames_space.data(), frames_space.size()), 4);
      } else {
        // 2.4: over everything after the extended header, padding
        // included, as a 35-bit sync-safe number.
        std::vector<uint8_t> covered = frames_raw;
        covered.resize(covered.size() + new_pad, 0);
        const uint32_t crc = Crc32(covered.data(), covered.size());
        uint8_t* p = &ext[layout->ext_crc_at];
        p[0] = uint8_t(crc >> 28);
        for (int i = 1; i < 5; ++i)
          p[i] = uint8_t((crc >> (28 - 7 * i)) & 0x7f);
      }
    }
    std::vector<uint8_t> next =
        whole_body_unsync ? Unsynchronise(ext.data(), ext.size()) : ext;
    const bool settled = next.size() == ext_raw.size() && new_pad == pad;
    ext_raw = std::move(next);
    pad = new_pad;
    if (settled && ext_raw.size() + frames_raw.size() == content) break;
  }

  const uint64_t body_size = ext_raw.size() + frames_raw.size() + pad;
  if (body_size >= (1u << 28)) {
    *why = "the ID3v2 tag would exceed its 256 MiB limit";
    return {};
  }
  std::vector<uint8_t> tag(10);
  if (layout != nullptr) {
    std::copy_n(old_tag.begin(), 10, tag.begin());
  } else {
    const uint8_t fresh[6] = {'I', 'D', '3', uint8_t(major), 0, 0};
    std::copy_n(fresh, 6, tag.begin());
  }
  PutSyncSafe(&tag[6], uint32_t(body_size));
  tag.reserve(10 + body_size + (footer ? 10 : 0));
  Append(&tag, ext_raw.data(), ext_raw.size());
  Append(&tag, frames_raw.data(), frames_raw.size());
  tag.resize(10 + body_size, 0);
  if (footer) {
    uint8_t foot[10] = {'3', 'D', 'I'};
    std::copy_n(tag.begin() + 3, 7, foot + 3);
    Append(&tag, foot, 10);
  }
  return tag;
}

}  // namespace nomtag::plugins
