#include "core/tag_set.h"

#include <charconv>
#include <cmath>

namespace nomtag {

bool IsValidTagKey(std::string_view key) {
  if (key.empty() || key.size() > 128) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (i == 0 ? !alnum : !(alnum || c == '.' || c == '_' || c == '-'))
      return false;
  }
  return true;
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (value == 0) return "0";  // also for -0: "-0" reads as a surprise
  char buf[64];
  // std::to_chars without a format gives the shortest round-trip text, in
  // plain or scientific notation, whichever is shorter; prefer plain.
  auto fixed =
      std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  std::string plain(buf, fixed.ptr);
  auto shortest = std::to_chars(buf, buf + sizeof buf, value);
  std::string any(buf, shortest.ptr);
  if (fixed.ec == std::errc() && plain.size() <= any.size() + 4) return plain;
  return any;
}

}  // namespace nomtag
