// What the safe-write tests share: the real format plugins, loaded once
// from the build's plugin folder, and a short way to write a tag set.
#ifndef NOMTAG_TESTS_WRITE_WRITE_TEST_SUPPORT_H_
#define NOMTAG_TESTS_WRITE_WRITE_TEST_SUPPORT_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "core/tag_set.h"
#include "formats/format_plugin.h"
#include "plugins/plugin_registry.h"

namespace nomtag::testing {

// The five format plugins, loaded on first use.
const PluginRegistry& Registry();

// The format plugin for the file's extension; throws when none is loaded.
const FormatPlugin& Format(const std::string& path);

TagSet Tags(std::initializer_list<std::pair<std::string, TagValues>> kv);

}  // namespace nomtag::testing

#endif  // NOMTAG_TESTS_WRITE_WRITE_TEST_SUPPORT_H_
