// Loads the real format plugins from the build's plugin directory through
// PluginRegistry — the path the host uses — and drives them through
// FormatPlugin on in-memory streams.
#ifndef NOMTAG_TESTS_FORMATS_FORMAT_UNDER_TEST_H_
#define NOMTAG_TESTS_FORMATS_FORMAT_UNDER_TEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/tag_set.h"
#include "formats/format_plugin.h"

namespace nomtag::testing {

// The loaded plugin for a container ("mp3", "mp4", "flac", "ogg-vorbis",
// "opus"); fails the calling test (returns null) when it did not load.
const FormatPlugin* LoadedFormat(const std::string& container);

// What a file looks like through a plugin.
struct FileView {
  Status status;  // the first failing read, else OK
  NamespaceRead ns;
  ForeignSnapshot foreign;
  std::string payload;  // the payload's parts, resolved to bytes
};
FileView View(const FormatPlugin& plugin, const std::vector<uint8_t>& bytes);

// Writes desired into a copy of bytes; returns the new bytes or the error.
Result<std::vector<uint8_t>> Write(const FormatPlugin& plugin,
                                   const std::vector<uint8_t>& bytes,
                                   const TagSet& desired, uint32_t padding = 0);

}  // namespace nomtag::testing

#endif  // NOMTAG_TESTS_FORMATS_FORMAT_UNDER_TEST_H_
