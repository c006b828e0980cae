// Small helpers every TagLib format plugin needs at its C boundary.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_PLUGIN_SUPPORT_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_PLUGIN_SUPPORT_H_

#include <nomtag/format.h>
#include <nomtag/stream.h>
#include <taglib/tstring.h>
#include <taglib/tstringlist.h>

#include <string>
#include <string_view>
#include <vector>

namespace nomtag::plugins {

// The stream's name for messages ("(stream)" when it has none).
std::string StreamName(const nomtag_stream* stream);

// Throws sdk::Error(code) with "<stream name>: <problem>".
[[noreturn]] void Fail(nomtag_status code, const nomtag_stream* stream,
                       std::string_view problem);

// Throws INVALID_ARGUMENT unless the stream table is usable (and writable
// when asked).
void RequireStream(const nomtag_stream* stream, bool writable);

// Throws CORRUPT for an empty stream: TagLib would treat it as a file with
// no tags, and a zero-byte "audio file" is damage worth reporting.
void RequireNonEmpty(const nomtag_stream* stream, const char* container);

// One desired tag as C++ values. Built from the host's array; throws
// INVALID_ARGUMENT for a malformed table.
struct DesiredTag {
  std::string key;
  std::vector<std::string> values;
};
std::vector<DesiredTag> DesiredTags(const nomtag_tag* tags, size_t count);

// The padding the host asked for; 0 (the format's default) when it sent
// no options.
uint32_t PaddingOption(const nomtag_write_options* opts);

// True when s is well-formed UTF-8 (no overlong or surrogate check).
bool IsUtf8(std::string_view s);

TagLib::String Utf8(std::string_view s);
std::string ToStd(const TagLib::String& s);
TagLib::StringList Utf8List(const std::vector<std::string>& values);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_PLUGIN_SUPPORT_H_
