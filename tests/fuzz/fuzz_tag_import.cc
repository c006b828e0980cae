// Fuzzes the tags-import JSON lines parser: any line gives a file entry
// with valid keys and a path inside the root, or a Status.
#include <cstdint>
#include <string>

#include "importing/tag_import.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string line(reinterpret_cast<const char*>(data), size);
  auto parsed = nomtag::ParseTagImportLine(line);
  if (parsed.ok()) {
    if (parsed->path.empty() || parsed->path[0] == '/' ||
        parsed->path == ".." || parsed->path.rfind("../", 0) == 0)
      __builtin_trap();
    for (const auto& [key, values] : parsed->tags)
      if (!nomtag::IsValidTagKey(key) || values.empty()) __builtin_trap();
  }
  return 0;
}
