#include "mp4_atoms.h"

#include <nomtag/cpp/stream.hpp>
#include <set>

#include "taglib-common/plugin_support.h"

namespace nomtag::plugins {
namespace {

uint64_t Be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

const std::set<std::string> kContainers = {"moov", "trak", "mdia", "minf",
                                           "stbl", "udta", "meta", "ilst",
                                           "edts", "dinf"};

void Walk(const sdk::StreamRef& s, const nomtag_stream* stream, uint64_t begin,
          uint64_t end, const std::string& parent, std::vector<Mp4Atom>& out,
          int depth) {
  uint64_t at = begin;
  while (at + 8 <= end) {
    std::vector<uint8_t> h = s.read(at, 16);
    if (h.size() < 8) break;
    uint64_t size = Be(&h[0], 4);
    uint64_t header = 8;
    if (size == 1) {
      if (h.size() < 16)
        Fail(NOMTAG_ERR_CORRUPT, stream,
             "truncated MP4 atom header at offset " + std::to_string(at));
      size = Be(&h[8], 8);
      header = 16;
    } else if (size == 0) {
      size = end - at;  // runs to the end of its parent
    }
    std::string name(reinterpret_cast<const char*>(&h[4]), 4);
    if (size < header || at + size > end)
      Fail(NOMTAG_ERR_CORRUPT, stream,
           "MP4 atom '" + name + "' at offset " + std::to_string(at) +
               " runs past its container (truncated file?)");
    std::string path = parent.empty() ? name : parent + "/" + name;
    out.push_back({path, at, size, header});
    const bool in_ilst =
        parent.size() >= 4 && parent.compare(parent.size() - 4, 4, "ilst") == 0;
    if (depth < 12 && (kContainers.count(name) || in_ilst)) {
      // meta is a full box (version and flags first) in iTunes files.
      uint64_t skip = name == "meta" ? 4 : 0;
      Walk(s, stream, at + header + skip, at + size, path, out, depth + 1);
    }
    at += size;
  }
}

// The body of a table atom (after its header and version/flags).
std::vector<uint8_t> TableBody(const sdk::StreamRef& s, const Mp4Atom& a) {
  if (a.size < a.header + 4) return {};
  return s.read(a.offset + a.header + 4, a.size - a.header - 4);
}

}  // namespace

std::vector<Mp4Atom> ReadMp4Atoms(const nomtag_stream* stream) {
  sdk::StreamRef s(stream);
  std::vector<Mp4Atom> atoms;
  Walk(s, stream, 0, s.length(), "", atoms, 0);
  return atoms;
}

std::string Mp4ItemName(const nomtag_stream* stream,
                        const std::vector<Mp4Atom>& atoms, size_t item) {
  sdk::StreamRef s(stream);
  const Mp4Atom& a = atoms[item];
  std::string leaf = a.path.substr(a.path.rfind('/') + 1);
  if (leaf != "----") return leaf;
  std::string mean, name;
  for (size_t i = item + 1;
       i < atoms.size() && atoms[i].offset < a.offset + a.size; ++i) {
    const Mp4Atom& c = atoms[i];
    if (c.size < c.header + 4) continue;
    std::vector<uint8_t> body =
        s.read(c.offset + c.header + 4, c.size - c.header - 4);
    std::string text(body.begin(), body.end());
    if (c.path == a.path + "/mean") mean = text;
    if (c.path == a.path + "/name") name = text;
  }
  return "----:" + mean + ":" + name;
}

std::vector<Mp4SampleRange> ReadMp4SampleRanges(
    const nomtag_stream* stream, const std::vector<Mp4Atom>& atoms) {
  sdk::StreamRef s(stream);
  const uint64_t total = s.length();
  std::vector<Mp4SampleRange> out;
  auto corrupt = [&](const std::string& what) {
    Fail(NOMTAG_ERR_CORRUPT, stream, "malformed MP4 sample table: " + what);
  };
  const std::string stbl = "moov/trak/mdia/minf/stbl";
  for (size_t t = 0; t < atoms.size(); ++t) {
    if (atoms[t].path != "moov/trak") continue;
    const Mp4Atom* stco = nullptr;
    const Mp4Atom* co64 = nullptr;
    const Mp4Atom* stsc = nullptr;
    const Mp4Atom* stsz = nullptr;
    for (size_t i = t + 1; i < atoms.size() && atoms[i].path != "moov/trak" &&
                           atoms[i].offset < atoms[t].offset + atoms[t].size;
         ++i) {
      const std::string& p = atoms[i].path;
      if (p == stbl + "/stco") stco = &atoms[i];
      if (p == stbl + "/co64") co64 = &atoms[i];
      if (p == stbl + "/stsc") stsc = &atoms[i];
      if (p == stbl + "/stsz") stsz = &atoms[i];
    }
    if ((!stco && !co64) || !stsc || !stsz) corrupt("a track lacks its tables");
    // Chunk offsets.
    std::vector<uint64_t> chunks;
    {
      std::vector<uint8_t> b = TableBody(s, co64 ? *co64 : *stco);
      const int w = co64 ? 8 : 4;
      if (b.size() < 4) corrupt("short chunk offset table");
      uint64_t n = Be(&b[0], 4);
      if (b.size() < 4 + n * w) corrupt("chunk offset table too short");
      for (uint64_t i = 0; i < n; ++i) chunks.push_back(Be(&b[4 + i * w], w));
    }
    // Sample sizes.
    std::vector<uint8_t> sz = TableBody(s, *stsz);
    if (sz.size() < 8) corrupt("short sample size table");
    const uint64_t uniform = Be(&sz[0], 4);
    const uint64_t samples = Be(&sz[4], 4);
    if (uniform == 0 && sz.size() < 8 + samples * 4)
      corrupt("sample size table too short");
    auto sample_size = [&](uint64_t i) {
      return uniform ? uniform : Be(&sz[8 + i * 4], 4);
    };
    // Samples per chunk, as runs starting at a 1-based chunk number.
    std::vector<uint8_t> sc = TableBody(s, *stsc);
    if (sc.size() < 4) corrupt("short sample-to-chunk table");
    const uint64_t runs = Be(&sc[0], 4);
    if (sc.size() < 4 + runs * 12) corrupt("sample-to-chunk table too short");
    uint64_t sample = 0;
    for (uint64_t r = 0; r < runs; ++r) {
      const uint64_t first = Be(&sc[4 + r * 12], 4);
      const uint64_t per = Be(&sc[8 + r * 12], 4);
      const uint64_t last =
          r + 1 < runs ? Be(&sc[4 + (r + 1) * 12], 4) - 1 : chunks.size();
      if (first == 0 || last > chunks.size()) corrupt("bad chunk number");
      for (uint64_t c = first; c <= last; ++c) {
        uint64_t len = 0;
        for (uint64_t k = 0; k < per && sample < samples; ++k)
          len += sample_size(sample++);
        const uint64_t off = chunks[c - 1];
        if (off + len > total)
          corrupt("chunk at offset " + std::to_string(off) +
                  " lies past the end of the file");
        out.push_back({off, len});
      }
    }
    if (sample != samples) corrupt("sample count does not match the chunks");
  }
  return out;
}

}  // namespace nomtag::plugins
