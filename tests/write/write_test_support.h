// What the safe-write tests share: the real format plugins, loaded once
// from the build's plugin folder, and a short way to write a tag set.
#ifndef NOMTAG_TESTS_WRITE_WRITE_TEST_SUPPORT_H_
#define NOMTAG_TESTS_WRITE_WRITE_TEST_SUPPORT_H_

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/tag_set.h"
#include "formats/format_plugin.h"
#include "plugins/plugin_registry.h"

namespace nomtag::testing {

// The five format plugins, loaded on first use.
const PluginRegistry& Registry();

// The format plugin for the file's extension; throws when none is loaded.
const FormatPlugin& Format(const std::string& path);

TagSet Tags(std::initializer_list<std::pair<std::string, TagValues>> kv);

// Writes tags into path in a child process told to die at the crash point
// (NOMTAG_TEST_CRASH_AT); returns the child's exit code: 86 when it died
// there, 0 when it wrote without.
int WriteDyingAt(const char* point, const std::string& path,
                 const TagSet& tags);

// The names in dir that a write leaves beside a file (journals, temporary
// copies: ".nomtag-" in the name).
std::vector<std::string> Sidecars(const std::string& dir);

// Pink noise encoded by ffmpeg into dir/name with the encoder options
// given, titled by somebody else; its path.
std::string EncodedNoise(const std::string& dir, const std::string& name,
                         const std::string& encode, int seconds);

}  // namespace nomtag::testing

#endif  // NOMTAG_TESTS_WRITE_WRITE_TEST_SUPPORT_H_
