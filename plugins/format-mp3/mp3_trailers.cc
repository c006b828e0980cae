#include "mp3_trailers.h"

#include <algorithm>
#include <cstring>
#include <nomtag/cpp/stream.hpp>

namespace nomtag::plugins {
namespace {

bool Matches(const std::vector<uint8_t>& d, const char* magic) {
  size_t n = std::strlen(magic);
  return d.size() >= n && std::memcmp(d.data(), magic, n) == 0;
}

uint32_t Le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24);
}

}  // namespace

std::vector<Mp3Trailer> FindMp3Trailers(const nomtag_stream* stream) {
  sdk::StreamRef s(stream);
  std::vector<Mp3Trailer> found;
  uint64_t end = s.length();
  if (end >= 128 && Matches(s.read(end - 128, 3), "TAG")) {
    found.push_back({"id3v1", end - 128, 128});
    end -= 128;
  }
  // An APEv2 footer: "APETAGEX", version, size (items + footer), count,
  // flags (bit 31: a header precedes the items).
  if (end >= 32) {
    std::vector<uint8_t> f = s.read(end - 32, 32);
    if (Matches(f, "APETAGEX")) {
      uint64_t size = Le32(&f[12]);
      if (Le32(&f[20]) & 0x80000000u) size += 32;
      if (size <= end) {
        found.push_back({"ape", end - size, size});
        end -= size;
      }
    }
  }
  // Lyrics3v2: six ASCII digits of size, then "LYRICS200".
  if (end >= 15) {
    std::vector<uint8_t> f = s.read(end - 15, 15);
    if (f.size() == 15 && std::memcmp(&f[6], "LYRICS200", 9) == 0 &&
        std::all_of(f.begin(), f.begin() + 6, ::isdigit)) {
      uint64_t size = std::stoull(std::string(f.begin(), f.begin() + 6)) + 15;
      if (size <= end) found.push_back({"lyrics3", end - size, size});
    }
  }
  std::reverse(found.begin(), found.end());
  return found;
}

}  // namespace nomtag::plugins
