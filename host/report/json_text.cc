#include "report/json_text.h"

#include <cstdio>

namespace nomtag {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when the byte there
// does not start one (overlong forms, surrogates and values past U+10FFFF
// are not valid).
size_t ValidSequence(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned int cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

void AppendString(const std::string& s, std::string* out) {
  static const char* hex = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = ValidSequence(s, i);
    if (n == 0) {  // a byte of no valid sequence: \udcXX
      *out += "\\udc";
      out->push_back(hex[c >> 4]);
      out->push_back(hex[c & 15]);
      ++i;
      continue;
    }
    if (n > 1) {
      out->append(s, i, n);
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '\t') {
      *out += "\\t";
    } else if (c == '\r') {
      *out += "\\r";
    } else if (c == '\b') {
      *out += "\\b";
    } else if (c == '\f') {
      *out += "\\f";
    } else if (c < 0x20) {
      *out += "\\u00";
      out->push_back(hex[c >> 4]);
      out->push_back(hex[c & 15]);
    } else {
      out->push_back(static_cast<char>(c));
    }
    i += n;
  }
  out->push_back('"');
}

// indent < 0: compact.
void Append(const nlohmann::json& j, int indent, std::string* out) {
  const bool compact = indent < 0;
  const std::string pad(compact ? 0 : indent + 2, ' ');
  const char* open_sep = compact ? "" : "\n";
  const char* item_sep = compact ? "," : ",\n";
  const int inner = compact ? -1 : indent + 2;
  const std::string close_pad = compact ? "" : "\n" + std::string(indent, ' ');
  if (j.is_object()) {
    if (j.empty()) {
      *out += "{}";
      return;
    }
    *out += "{";
    *out += open_sep;
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) *out += item_sep;
      first = false;
      *out += pad;
      AppendString(it.key(), out);
      *out += compact ? ":" : ": ";
      Append(it.value(), inner, out);
    }
    *out += close_pad + "}";
  } else if (j.is_array()) {
    if (j.empty()) {
      *out += "[]";
      return;
    }
    *out += "[";
    *out += open_sep;
    bool first = true;
    for (const auto& v : j) {
      if (!first) *out += item_sep;
      first = false;
      *out += pad;
      Append(v, inner, out);
    }
    *out += close_pad + "]";
  } else if (j.is_string()) {
    AppendString(j.get_ref<const std::string&>(), out);
  } else {
    *out += j.dump();  // numbers, booleans, null: nlohmann's own form
  }
}

}  // namespace

std::string JsonText(const nlohmann::json& j, JsonLayout layout) {
  std::string out;
  Append(j, layout == JsonLayout::kCompact ? -1 : 0, &out);
  return out;
}

void PrintJson(const nlohmann::json& j) {
  std::string text = JsonText(j);
  text.push_back('\n');
  std::fwrite(text.data(), 1, text.size(), stdout);
}

bool IsUtf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = ValidSequence(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace nomtag
