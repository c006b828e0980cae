#include "plugin_support.h"

#include <nomtag/cpp/error.hpp>

namespace nomtag::plugins {

std::string StreamName(const nomtag_stream* stream) {
  return stream && stream->name ? stream->name : "(stream)";
}

void Fail(nomtag_status code, const nomtag_stream* stream,
          std::string_view problem) {
  throw sdk::Error(code, StreamName(stream) + ": " + std::string(problem));
}

void RequireStream(const nomtag_stream* stream, bool writable) {
  if (stream == nullptr || stream->struct_size < sizeof(nomtag_stream) ||
      !stream->length || !stream->read || !stream->write || !stream->insert ||
      !stream->remove || !stream->truncate)
    throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT, "invalid stream table");
  if (writable && stream->read_only)
    Fail(NOMTAG_ERR_INVALID_ARGUMENT, stream,
         "write requested on a read-only stream");
}

void RequireNonEmpty(const nomtag_stream* stream, const char* container) {
  if (stream->length(stream->ctx) == 0)
    Fail(NOMTAG_ERR_CORRUPT, stream,
         std::string("zero-byte file, not a valid ") + container + " file");
}

bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t follow = 0;
    if (c < 0x80)
      follow = 0;
    else if (c >= 0xc2 && c < 0xe0)
      follow = 1;
    else if (c >= 0xe0 && c < 0xf0)
      follow = 2;
    else if (c >= 0xf0 && c < 0xf5)
      follow = 3;
    else
      return false;
    if (i + follow >= s.size() && follow > 0) return false;
    for (size_t k = 1; k <= follow; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += follow + 1;
  }
  return true;
}

uint32_t PaddingOption(const nomtag_write_options* opts) {
  return opts != nullptr &&
                 NOMTAG_HAS_FIELD(opts, nomtag_write_options, padding)
             ? opts->padding
             : 0;
}

std::vector<DesiredTag> DesiredTags(const nomtag_tag* tags, size_t count) {
  if (count > 0 && tags == nullptr)
    throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT, "tags is null");
  std::vector<DesiredTag> out;
  for (size_t i = 0; i < count; ++i) {
    const nomtag_tag& t = tags[i];
    if (t.struct_size < sizeof(nomtag_tag) || t.key.data == nullptr ||
        t.key.len == 0 || (t.value_count > 0 && t.values == nullptr))
      throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT, "malformed tag table");
    DesiredTag d{std::string(t.key.data, t.key.len), {}};
    for (size_t v = 0; v < t.value_count; ++v) {
      d.values.emplace_back(t.values[v].data ? t.values[v].data : "",
                            t.values[v].len);
      // TagLib turns invalid UTF-8 into an empty or missing value without
      // a word; refuse it here instead.
      if (!IsUtf8(d.values.back()))
        throw sdk::Error(NOMTAG_ERR_INVALID_ARGUMENT,
                         "value of nom:" + d.key + " is not valid UTF-8");
    }
    out.push_back(std::move(d));
  }
  return out;
}

TagLib::String Utf8(std::string_view s) {
  return TagLib::String(std::string(s), TagLib::String::UTF8);
}

std::string ToStd(const TagLib::String& s) { return s.to8Bit(true); }

TagLib::StringList Utf8List(const std::vector<std::string>& values) {
  TagLib::StringList list;
  for (const auto& v : values) list.append(Utf8(v));
  return list;
}

}  // namespace nomtag::plugins
