#include "id3v2_padding.h"

#include <nomtag/cpp/stream.hpp>
#include <vector>

namespace nomtag::plugins {

void EnsureId3v2Padding(const nomtag_stream* stream, uint64_t original_length,
                        uint32_t padding) {
  sdk::StreamRef s(stream);
  std::vector<uint8_t> h = s.read(0, 10);
  if (h.size() < 10 || h[0] != 'I' || h[1] != 'D' || h[2] != '3') return;
  // A footer repeats the size; TagLib does not write one, leave such tags.
  if (h[5] & 0x10) return;
  const uint32_t size = (uint32_t(h[6] & 0x7f) << 21) |
                        (uint32_t(h[7] & 0x7f) << 14) |
                        (uint32_t(h[8] & 0x7f) << 7) | uint32_t(h[9] & 0x7f);
  const uint64_t length = 10 + uint64_t(size);
  if (length == original_length) return;  // fit in place
  uint64_t extra = 0;
  if (length < original_length) {
    // TagLib shrank the tag (its 1% rule, or fewer frames): fill it back
    // to its old length, so the audio stays where it was.
    extra = original_length - length;
  } else {
    std::vector<uint8_t> body = s.read(10, size);
    uint64_t zeros = 0;
    while (zeros < body.size() && body[body.size() - 1 - zeros] == 0) ++zeros;
    if (zeros >= padding) return;  // also padding 0: TagLib's own
    extra = padding - zeros;
  }
  const uint64_t new_size = size + extra;
  if (new_size >= (1u << 28)) return;  // beyond what a sync-safe size holds
  std::vector<uint8_t> fill(extra, 0);
  s.insert(length, fill.data(), fill.size(), 0);
  const uint8_t syncsafe[4] = {
      uint8_t((new_size >> 21) & 0x7f), uint8_t((new_size >> 14) & 0x7f),
      uint8_t((new_size >> 7) & 0x7f), uint8_t(new_size & 0x7f)};
  s.write(6, syncsafe, 4);
}

}  // namespace nomtag::plugins
