#include "formats/foreign_text.h"

#include <cstdint>
#include <string_view>

namespace nomtag {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80             ? 0
                     : (c & 0xE0) == 0xC0 ? 1
                     : (c & 0xF0) == 0xE0 ? 2
                     : (c & 0xF8) == 0xF0 ? 3
                                          : 4;
    if (n == 4 || i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

// Text with at most tabs and newlines for control characters.
bool LooksLikeText(std::string_view s) {
  if (!ValidUtf8(s)) return false;
  for (unsigned char c : s)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
  return true;
}

std::vector<std::string_view> Split(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    if (at == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, at - start));
    start = at + sep.size();
  }
}

// Decodes ID3v2 text of the given encoding byte; values end at NULs
// (two-byte NULs on a two-byte boundary for UTF-16). Empty optional-like:
// returns false on an unknown encoding or broken UTF-16/UTF-8.
bool DecodeId3Text(uint8_t encoding, std::string_view raw,
                   std::vector<std::string>* values) {
  if (encoding == 0 || encoding == 3) {
    for (std::string_view part : Split(raw, std::string_view("\0", 1))) {
      std::string v;
      if (encoding == 0) {
        for (unsigned char c : part) AppendUtf8(c, &v);
      } else {
        if (!ValidUtf8(part)) return false;
        v = std::string(part);
      }
      values->push_back(std::move(v));
    }
  } else if (encoding == 1 || encoding == 2) {
    if (raw.size() % 2 != 0) raw.remove_suffix(1);
    bool big_endian = encoding == 2;
    std::string v;
    bool at_start = true;
    for (size_t i = 0; i + 1 < raw.size(); i += 2) {
      const auto b0 = static_cast<unsigned char>(raw[i]);
      const auto b1 = static_cast<unsigned char>(raw[i + 1]);
      uint32_t unit = big_endian ? (b0 << 8 | b1) : (b1 << 8 | b0);
      if (at_start && encoding == 1 && (unit == 0xFEFF || unit == 0xFFFE)) {
        // The BOM as read little-endian: FFFE means the text is big-endian.
        big_endian = unit == 0xFFFE ? !big_endian : big_endian;
        at_start = false;
        continue;
      }
      at_start = false;
      if (unit == 0) {
        values->push_back(std::move(v));
        v.clear();
        at_start = true;
        continue;
      }
      if (unit >= 0xD800 && unit < 0xDC00 && i + 3 < raw.size()) {
        const auto c0 = static_cast<unsigned char>(raw[i + 2]);
        const auto c1 = static_cast<unsigned char>(raw[i + 3]);
        uint32_t low = big_endian ? (c0 << 8 | c1) : (c1 << 8 | c0);
        if (low < 0xDC00 || low > 0xDFFF) return false;
        AppendUtf8(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), &v);
        i += 2;
        continue;
      }
      if (unit >= 0xD800 && unit <= 0xDFFF) return false;
      AppendUtf8(unit, &v);
    }
    values->push_back(std::move(v));
  } else {
    return false;
  }
  // A terminator at the end is not an empty last value.
  if (values->size() > 1 && values->back().empty()) values->pop_back();
  return true;
}

ForeignText Binary(const std::string& kind, size_t size) {
  return {false, {kind + ", " + std::to_string(size) + " bytes"}};
}

ForeignText Id3v2Frame(std::string_view frame_id, const std::string& data) {
  const std::string_view raw(data);
  // Header: id(4) size(4) flags(2). Format flags (compression,
  // encryption, grouping, unsynchronisation) mean the body is not plain.
  if (raw.size() < 11 || raw[9] != 0) return Binary("ID3v2 frame", raw.size());
  std::string_view body = raw.substr(10);
  const auto encoding = static_cast<uint8_t>(body[0]);
  std::vector<std::string> values;
  auto ok = [&] { return ForeignText{true, std::move(values)}; };
  if (frame_id == "TXXX" || frame_id == "WXXX") {
    std::vector<std::string> parts;
    const bool url = frame_id == "WXXX";
    // The description is in the frame's encoding, a WXXX URL in Latin-1.
    if (!DecodeId3Text(encoding, body.substr(1), &parts) || parts.empty())
      return Binary("ID3v2 frame", raw.size());
    const std::string desc = parts[0];
    if (url) {
      values.push_back(desc + ": " + parts.back());
    } else {
      for (size_t i = 1; i < parts.size(); ++i)
        values.push_back(desc + ": " + parts[i]);
      if (parts.size() == 1) values.push_back(desc + ": ");
    }
    return ok();
  }
  if (frame_id == "COMM" || frame_id == "USLT") {
    if (body.size() < 4) return Binary("ID3v2 frame", raw.size());
    const std::string lang(body.substr(1, 3));
    std::vector<std::string> parts;
    if (!DecodeId3Text(encoding, body.substr(4), &parts) || parts.empty())
      return Binary("ID3v2 frame", raw.size());
    std::string text = parts.size() > 1 ? parts[1] : "";
    for (size_t i = 2; i < parts.size(); ++i) text += "\n" + parts[i];
    std::string label = "[" + lang + "]";
    if (!parts[0].empty()) label += " " + parts[0];
    values.push_back(label + ": " + text);
    return ok();
  }
  if (frame_id[0] == 'T') {
    if (!DecodeId3Text(encoding, body.substr(1), &values))
      return Binary("ID3v2 frame", raw.size());
    return ok();
  }
  if (frame_id[0] == 'W') {
    std::vector<std::string> latin;
    DecodeId3Text(0, body, &latin);
    values = std::move(latin);
    return ok();
  }
  if (frame_id == "APIC") return Binary("picture", raw.size());
  return Binary("ID3v2 " + std::string(frame_id) + " frame", raw.size());
}

ForeignText Mp4Item(const std::string& data) {
  // "type=N" then "\ns:text", "\nb:bytes", "\nc<fmt>:bytes", "\nint:5"...
  // (format-mp4's Serialize). Bytes and cover art make it binary.
  if (data.find("\nc") != std::string::npos &&
      (data.find("\nc13:") != std::string::npos ||
       data.find("\nc14:") != std::string::npos ||
       data.find("\nc27:") != std::string::npos ||
       data.find("\nc12:") != std::string::npos ||
       data.find("\nc0:") != std::string::npos))
    return Binary("cover art", data.size());
  if (data.find("\nb:") != std::string::npos || data.rfind("type=", 0) != 0)
    return Binary("MP4 data", data.size());
  std::vector<std::string> strings, numbers;
  std::string* last = nullptr;
  for (std::string_view line : Split(std::string_view(data), "\n")) {
    if (line.rfind("type=", 0) == 0 && last == nullptr) continue;
    if (line.rfind("s:", 0) == 0) {
      strings.emplace_back(line.substr(2));
      last = &strings.back();
    } else if (line.rfind("pair:", 0) == 0) {
      numbers.emplace_back(line.substr(5));
      last = nullptr;
    } else if (line.rfind("bool:", 0) == 0 || line.rfind("int:", 0) == 0 ||
               line.rfind("byte:", 0) == 0 || line.rfind("uint:", 0) == 0 ||
               line.rfind("long:", 0) == 0) {
      numbers.emplace_back(line.substr(line.find(':') + 1));
      last = nullptr;
    } else if (last != nullptr) {
      *last += "\n" + std::string(line);  // a string value with a newline
    } else {
      return Binary("MP4 data", data.size());
    }
  }
  // A number item also lists its raw bytes as strings; the number says it.
  std::vector<std::string>& values = numbers.empty() ? strings : numbers;
  for (const auto& v : values)
    if (!ValidUtf8(v)) return Binary("MP4 data", data.size());
  return {true, std::move(values)};
}

// ID3v1: "TAG" title(30) artist(30) album(30) year(4) comment(30) genre(1).
ForeignText Id3v1(const std::string& data) {
  if (data.size() != 128 || data.compare(0, 3, "TAG") != 0)
    return Binary("ID3v1 tag", data.size());
  auto field = [&](size_t at, size_t len) {
    std::string_view f(data.data() + at, len);
    f = f.substr(0, f.find('\0'));
    while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
    std::string v;
    for (unsigned char c : f) AppendUtf8(c, &v);
    return v;
  };
  std::string line = "title=" + field(3, 30) + ", artist=" + field(33, 30) +
                     ", album=" + field(63, 30) + ", year=" + field(93, 4);
  return {true, {line}};
}

}  // namespace

ForeignText DescribeForeignItem(const ForeignItem& item) {
  const std::string& id = item.id;
  const std::string& data = item.data;
  if (id.rfind("id3v2:", 0) == 0 && id.size() == 10)
    return Id3v2Frame(std::string_view(id).substr(6), data);
  if (id.rfind("vorbis:picture", 0) == 0) return Binary("picture", data.size());
  if (id == "vorbis:vendor")
    return LooksLikeText(data) ? ForeignText{true, {data}}
                               : Binary("vendor", data.size());
  if (id.rfind("vorbis:", 0) == 0) {
    // Each value ends with a NUL (xiph_namespace.cc).
    std::vector<std::string> values;
    std::string_view rest(data);
    if (!rest.empty() && rest.back() == '\0') rest.remove_suffix(1);
    for (std::string_view v : Split(rest, std::string_view("\0", 1))) {
      if (!LooksLikeText(v)) return Binary("Vorbis field", data.size());
      values.emplace_back(v);
    }
    return {true, std::move(values)};
  }
  if (id.rfind("mp4:", 0) == 0) return Mp4Item(data);
  if (id.rfind("flac:block#", 0) == 0) {
    // "flac:block#<n>:type<t>", t the metadata block type.
    static const char* const kBlocks[] = {
        "stream info",    "padding",   "application", "seek table",
        "Vorbis comment", "cue sheet", "picture"};
    const size_t at = id.rfind(":type");
    const std::string type = at == std::string::npos ? "" : id.substr(at + 5);
    if (type.size() == 1 && type[0] >= '0' && type[0] <= '6')
      return Binary(type[0] == '6' ? "picture"
                                   : std::string("FLAC ") +
                                         kBlocks[type[0] - '0'] + " block",
                    data.size());
  }
  if (id == "id3v1" || id == "flac:id3v1") return Id3v1(data);
  if (id.rfind("struct:", 0) == 0 && LooksLikeText(data) && !data.empty())
    return {true, {data}};
  if (id.rfind("struct:", 0) == 0) return Binary("structure", data.size());
  return Binary("binary", data.size());
}

std::string ForeignIdText(const std::string& id) {
  if (ValidUtf8(id)) return id;
  std::string out;
  for (unsigned char c : id) AppendUtf8(c, &out);
  return out;
}

std::string ForeignTextLine(const ForeignText& text, size_t max_chars) {
  std::string line;
  for (size_t i = 0; i < text.values.size(); ++i) {
    if (i > 0) line += "; ";
    for (char c : text.values[i]) {
      if (c == '\n')
        line += "\\n";
      else if (c == '\r')
        line += "\\r";
      else if (c == '\t')
        line += "\\t";
      else
        line += c;
    }
  }
  if (!text.is_text) return "(" + line + ")";
  // Count characters, not bytes, and never cut inside one.
  size_t chars = 0, cut = std::string::npos;
  for (size_t i = 0; i < line.size(); ++i)
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80 &&
        chars++ == max_chars)
      cut = i;
  if (cut == std::string::npos) return line;
  return line.substr(0, cut) + "… (" + std::to_string(chars) + " chars)";
}

}  // namespace nomtag
