#include "core/tag_set.h"

#include <charconv>
#include <cmath>
#include <cstdint>

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

namespace {

void Mix(uint64_t* h, std::string_view bytes) {
  // The length first, so that ("ab","c") and ("a","bc") differ.
  uint64_t n = bytes.size();
  for (int i = 0; i < 8; ++i) {
    *h ^= (n >> (8 * i)) & 0xff;
    *h *= 0x100000001b3ULL;
  }
  for (unsigned char c : bytes) {
    *h ^= c;
    *h *= 0x100000001b3ULL;
  }
}

}  // namespace

std::string TagSetDigest(const TagSet& tags) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& [key, values] : tags) {
    Mix(&h, key);
    Mix(&h, std::to_string(values.size()));
    for (const auto& v : values) Mix(&h, v);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[i] = kHex[h & 0xf];
  return out;
}

std::string UnstorableValueReason(std::string_view value, bool allow_empty) {
  if (value.find('\0') != std::string_view::npos)
    return "holds a NUL byte, which no tag container can store";
  if (value.empty() && !allow_empty)
    return "is empty, which a Vorbis comment (FLAC, Ogg, Opus) does not "
           "keep as a value";
  return "";
}

}  // namespace nomtag
