#include "mp4_padding.h"

#include <nomtag/cpp/stream.hpp>
#include <string>

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

// True when the top-level moov comes before the first mdat: only then
// does growing moov move the audio.
bool MoovFirst(const std::vector<Mp4Atom>& atoms) {
  for (const Mp4Atom& a : atoms) {
    if (a.path == "moov") return true;
    if (a.path == "mdat") return false;
  }
  return false;
}

// One edit of bytes already in the stream (sizes and offsets), made
// before the insertion so that its offset still holds.
struct Patch {
  uint64_t offset;
  std::vector<uint8_t> bytes;
};

// Adds delta to the size field of atom a; false when the field cannot
// say it (an atom "to the end of the file", or past 32 bits).
bool GrowSize(const sdk::StreamRef& s, const Mp4Atom& a, uint64_t delta,
              std::vector<Patch>& patches) {
  std::vector<uint8_t> h = s.read(a.offset, a.header);
  if (h.size() < a.header) return false;
  if (a.header == 16) {
    PutBe(h, 8, a.size + delta, 8);
    patches.push_back({a.offset + 8, {h.begin() + 8, h.begin() + 16}});
    return true;
  }
  if (Be(h, 0, 4) == 0 || a.size + delta > 0xffffffffu) return false;
  PutBe(h, 0, a.size + delta, 4);
  patches.push_back({a.offset, {h.begin(), h.begin() + 4}});
  return true;
}

// Adds delta to every chunk offset at or past `from`; false when a 32-bit
// table would overflow.
bool ShiftChunkOffsets(const sdk::StreamRef& s, const Mp4Atom& a, uint64_t from,
                       uint64_t delta, std::vector<Patch>& patches) {
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
    if (width == 4 && v > 0xffffffffu) return false;
    PutBe(entries, i * width, v, width);
  }
  patches.push_back({table, std::move(entries)});
  return true;
}

}  // namespace

void EnsureMp4Padding(const nomtag_stream* stream,
                      const std::vector<Mp4Atom>& original, uint32_t padding) {
  if (padding == 0) return;  // TagLib's own
  if (!MoovFirst(original)) return;
  const Mp4Atom* old_moov = Find(original, "moov");
  sdk::StreamRef s(stream);
  const std::vector<Mp4Atom> atoms = ReadMp4Atoms(stream);
  const Mp4Atom* moov = Find(atoms, "moov");
  const Mp4Atom* ilst = Find(atoms, "moov/udta/meta/ilst");
  if (moov == nullptr || ilst == nullptr || Find(atoms, "moof") != nullptr)
    return;
  if (moov->size == old_moov->size) return;  // fit in place
  const uint64_t ilst_end = ilst->offset + ilst->size;
  const Mp4Atom* free = nullptr;
  for (const Mp4Atom& a : atoms)
    if (a.path == "moov/udta/meta/free" && a.offset == ilst_end) free = &a;
  // Padding counts the free atom's contents, as FLAC counts its PADDING
  // block's: a new atom costs its header on top.
  const uint64_t have = free ? free->size - free->header : 0;
  if (have >= padding) return;
  const uint64_t delta = free ? padding - have : padding + 8;

  // Sizes and offsets first, at the offsets they have now; then the bytes.
  std::vector<Patch> patches;
  for (const char* parent : {"moov", "moov/udta", "moov/udta/meta"})
    if (!GrowSize(s, *Find(atoms, parent), delta, patches)) return;
  if (free != nullptr && !GrowSize(s, *free, delta, patches)) return;
  const uint64_t insert_at = free ? free->offset + free->size : ilst_end;
  for (const Mp4Atom& a : atoms) {
    const bool table = a.path == "moov/trak/mdia/minf/stbl/stco" ||
                       a.path == "moov/trak/mdia/minf/stbl/co64";
    if (table && !ShiftChunkOffsets(s, a, insert_at, delta, patches)) return;
  }
  for (const Patch& p : patches)
    s.write(p.offset, p.bytes.data(), p.bytes.size());
  std::vector<uint8_t> fill(delta, 0);
  if (free == nullptr) {  // a new atom: its header, then the padding
    PutBe(fill, 0, delta, 4);
    fill[4] = 'f', fill[5] = 'r', fill[6] = 'e', fill[7] = 'e';
  }
  s.insert(insert_at, fill.data(), fill.size(), 0);
}

}  // namespace nomtag::plugins
