#include "mp4_splice.h"

#include <algorithm>
#include <nomtag/cpp/stream.hpp>

#include "taglib-common/changed_runs.h"
#include "taglib-common/plugin_support.h"

namespace nomtag::plugins {
namespace {

const Mp4Atom* Find(const std::vector<Mp4Atom>& atoms,
                    const std::string& path) {
  for (const Mp4Atom& a : atoms)
    if (a.path == path) return &a;
  return nullptr;
}

uint64_t Be(const std::vector<uint8_t>& b, size_t at, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | b[at + i];
  return v;
}

void PutBe(std::vector<uint8_t>& b, size_t at, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v >>= 8) b[at + i] = uint8_t(v);
}

// An atom with an 8-byte header around body.
std::vector<uint8_t> Atom(const char* type, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out(8);
  PutBe(out, 0, 8 + body.size(), 4);
  std::copy(type, type + 4, out.begin() + 4);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

void Add(std::vector<uint8_t>& out, const std::vector<uint8_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

// "----" with mean, name and one UTF-8 data atom per value, as iTunes and
// TagLib write freeform items.
std::vector<uint8_t> RenderFreeform(const Mp4Freeform& item) {
  const std::vector<uint8_t> zero4(4, 0);
  std::vector<uint8_t> body;
  std::vector<uint8_t> mean = zero4, name = zero4;
  Add(mean, Bytes(item.mean));
  Add(name, Bytes(item.name));
  Add(body, Atom("mean", mean));
  Add(body, Atom("name", name));
  for (const std::string& v : item.values) {
    std::vector<uint8_t> data = {0, 0, 0, 1, 0, 0, 0, 0};  // UTF-8, locale 0
    Add(data, Bytes(v));
    Add(body, Atom("data", data));
  }
  return Atom("----", body);
}

struct Patch {
  uint64_t offset;
  std::vector<uint8_t> bytes;
};

// Adds delta to atom a's size field; false when the field cannot say it
// (an atom "to the end of the file", or past 32 bits).
bool Resize(const sdk::StreamRef& s, const Mp4Atom& a, int64_t delta,
            std::vector<Patch>& patches) {
  std::vector<uint8_t> h = s.read(a.offset, a.header);
  if (h.size() < a.header) return false;
  const uint64_t size = a.size + delta;
  if (a.header == 16) {
    PutBe(h, 8, size, 8);
    patches.push_back({a.offset + 8, {h.begin() + 8, h.begin() + 16}});
    return true;
  }
  if (Be(h, 0, 4) == 0 || size > 0xffffffffu) return false;
  PutBe(h, 0, size, 4);
  patches.push_back({a.offset, {h.begin(), h.begin() + 4}});
  return true;
}

// Adds delta to every chunk offset at or past `from`; false when a 32-bit
// table would overflow. *moved tells whether any did.
bool ShiftChunkOffsets(const sdk::StreamRef& s, const Mp4Atom& a, uint64_t from,
                       int64_t delta, std::vector<Patch>& patches,
                       bool* moved) {
  const int width = a.path.compare(a.path.size() - 4, 4, "co64") == 0 ? 8 : 4;
  const uint64_t table = a.offset + a.header + 8;  // version, flags, count
  std::vector<uint8_t> head = s.read(a.offset + a.header, 8);
  if (head.size() < 8) return false;
  const uint64_t count = Be(head, 4, 4);
  if (table + count * width > a.offset + a.size) return false;
  std::vector<uint8_t> entries = s.read(table, count * width);
  if (entries.size() < count * width) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t v = Be(entries, i * width, width);
    if (v < from) continue;
    v += delta;
    *moved = true;
    if (width == 4 && v > 0xffffffffu) return false;
    PutBe(entries, i * width, v, width);
  }
  patches.push_back({table, std::move(entries)});
  return true;
}

bool IsChunkTable(const Mp4Atom& a) {
  return a.path == "moov/trak/mdia/minf/stbl/stco" ||
         a.path == "moov/trak/mdia/minf/stbl/co64";
}

}  // namespace

void SpliceMp4(const nomtag_stream* stream, const std::vector<Mp4Atom>& atoms,
               const std::vector<bool>& ours,
               const std::vector<Mp4Freeform>& items, uint32_t padding) {
  sdk::StreamRef s(stream);
  const Mp4Atom* moov = Find(atoms, "moov");
  if (moov == nullptr)
    Fail(NOMTAG_ERR_CORRUPT, stream, "MP4 file without moov");
  const Mp4Atom* udta = Find(atoms, "moov/udta");
  const Mp4Atom* meta = Find(atoms, "moov/udta/meta");
  const Mp4Atom* ilst = Find(atoms, "moov/udta/meta/ilst");
  if (ilst == nullptr && items.empty()) return;  // nothing of ours, none asked

  // The new ilst: foreign items as they are, in order, then ours.
  std::vector<uint8_t> new_ilst(8);
  if (ilst != nullptr) {
    for (size_t i = 0; i < atoms.size(); ++i) {
      const Mp4Atom& a = atoms[i];
      if (a.offset < ilst->offset + ilst->header ||
          a.offset >= ilst->offset + ilst->size ||
          a.path.size() != ilst->path.size() + 5 || ours[i])
        continue;
      Add(new_ilst, s.read(a.offset, a.size));
    }
  }
  for (const Mp4Freeform& item : items) Add(new_ilst, RenderFreeform(item));
  PutBe(new_ilst, 0, new_ilst.size(), 4);
  std::copy_n("ilst", 4, new_ilst.begin() + 4);
  if (new_ilst.size() > 0xffffffffu)
    Fail(NOMTAG_ERR_REFUSED, stream, "the MP4 ilst would exceed 4 GiB");

  // The region replaced, and the atoms that contain it.
  uint64_t begin = 0, old_len = 0;
  std::vector<const Mp4Atom*> parents = {moov};
  if (ilst != nullptr) {
    begin = ilst->offset;
    old_len = ilst->size;
    for (const Mp4Atom& a : atoms)
      if (a.path == "moov/udta/meta/free" && a.offset == begin + old_len)
        old_len += a.size;
  } else if (meta != nullptr) {
    begin = meta->offset + meta->size;
  } else if (udta != nullptr) {
    begin = udta->offset + udta->size;
  } else {
    begin = moov->offset + moov->size;
  }
  if (udta != nullptr) parents.push_back(udta);
  if (meta != nullptr) parents.push_back(meta);

  // Wraps the ilst (and its padding) in what is missing.
  auto wrap = [&](std::vector<uint8_t> inner) {
    if (ilst != nullptr || meta != nullptr) return inner;
    std::vector<uint8_t> body(4, 0);  // meta is a full box
    std::vector<uint8_t> hdlr(8, 0);
    Add(hdlr, Bytes("mdirappl"));
    hdlr.resize(hdlr.size() + 9, 0);
    Add(body, Atom("hdlr", hdlr));
    Add(body, inner);
    std::vector<uint8_t> out = Atom("meta", body);
    return udta != nullptr ? out : Atom("udta", out);
  };

  std::vector<uint8_t> region;
  if (ilst != nullptr && new_ilst.size() == old_len) {
    region = new_ilst;
  } else if (ilst != nullptr && new_ilst.size() + 8 <= old_len) {
    region = new_ilst;  // the rest stays padding
    std::vector<uint8_t> free_atom(old_len - new_ilst.size(), 0);
    PutBe(free_atom, 0, free_atom.size(), 4);
    std::copy_n("free", 4, free_atom.begin() + 4);
    Add(region, free_atom);
  }
  if (!region.empty()) {
    std::vector<uint8_t> old = s.read(begin, old_len);
    WriteChangedRuns(stream, begin, old, region);
    return;
  }

  // ilst grows (or is new): the samples past it may move.
  bool samples_move = false;
  for (const Mp4Atom& a : atoms) {
    if (!IsChunkTable(a)) continue;
    std::vector<Patch> unused;
    bool moved = false;
    ShiftChunkOffsets(s, a, begin, 0, unused, &moved);
    samples_move = samples_move || moved;
  }
  uint64_t pad;
  if (samples_move && padding > 0) {
    pad = padding;
  } else {
    // TagLib's rounding: ilst and the free atom's body end on a KiB.
    pad = (1024 - new_ilst.size() % 1024) % 1024;
  }
  std::vector<uint8_t> free_atom(8 + pad, 0);
  PutBe(free_atom, 0, free_atom.size(), 4);
  std::copy_n("free", 4, free_atom.begin() + 4);
  region = new_ilst;
  Add(region, free_atom);
  region = wrap(std::move(region));
  const int64_t delta = int64_t(region.size()) - int64_t(old_len);

  if (samples_move && Find(atoms, "moof") != nullptr)
    Fail(NOMTAG_ERR_REFUSED, stream,
         "fragmented MP4: growing moov would move fragments nomtag does not "
         "rewrite");
  // Sizes and offsets first, at the offsets they have now; then the bytes.
  std::vector<Patch> patches;
  for (const Mp4Atom* p : parents)
    if (!Resize(s, *p, delta, patches))
      Fail(NOMTAG_ERR_REFUSED, stream,
           "MP4 atom '" + p->path + "' cannot say its new size");
  for (const Mp4Atom& a : atoms) {
    bool moved = false;
    if (IsChunkTable(a) &&
        !ShiftChunkOffsets(s, a, begin, delta, patches, &moved))
      Fail(NOMTAG_ERR_REFUSED, stream,
           "a 32-bit MP4 chunk offset table cannot hold the moved offsets");
  }
  for (const Patch& p : patches)
    s.write(p.offset, p.bytes.data(), p.bytes.size());
  s.insert(begin, region.data(), region.size(), old_len);
}

}  // namespace nomtag::plugins
