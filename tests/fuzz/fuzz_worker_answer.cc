// Fuzzes the inference-external protocol parser: a worker's answer and
// hello lines are untrusted bytes. Checks the parser never crashes and
// that what it accepts keeps the protocol's bounds.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "worker_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  using namespace nomtag::external;
  (void)CheckHello(line);
  ParsedAnswer p = ParseAnswer(line, 1);
  if (p.ok) {
    for (const HeadOutput& h : p.answer.heads)
      if (!(h.value >= 0 && h.value <= 1) || h.model_id.empty() ||
          h.label.empty() || (h.spread < 0 && h.spread != -1))
        std::abort();
    for (const auto& [name, value] : p.answer.descriptors)
      if (name.empty() || !std::isfinite(value)) std::abort();
    for (float v : p.answer.embedding)
      if (!std::isfinite(v)) std::abort();
  } else if (p.error.empty()) {
    std::abort();
  }
  (void)RequestLine(1, line);
  return 0;
}
