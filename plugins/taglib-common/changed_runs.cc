#include "changed_runs.h"

#include <nomtag/cpp/stream.hpp>

namespace nomtag::plugins {

void WriteChangedRuns(const nomtag_stream* stream, uint64_t offset,
                      const std::vector<uint8_t>& old_bytes,
                      const std::vector<uint8_t>& new_bytes) {
  sdk::StreamRef s(stream);
  const std::vector<uint8_t>& a = old_bytes;
  const std::vector<uint8_t>& b = new_bytes;
  size_t i = 0;
  while (i < b.size()) {
    if (b[i] == a[i]) {
      ++i;
      continue;
    }
    size_t end = i + 1, same = 0;
    for (size_t j = end; j < b.size() && same < 64; ++j) {
      if (b[j] == a[j]) {
        ++same;
      } else {
        same = 0;
        end = j + 1;
      }
    }
    s.write(offset + i, &b[i], end - i);
    i = end;
  }
}

}  // namespace nomtag::plugins
