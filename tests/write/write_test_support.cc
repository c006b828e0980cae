#include "write/write_test_support.h"

#include <filesystem>
#include <stdexcept>

namespace nomtag::testing {

const PluginRegistry& Registry() {
  static PluginRegistry* reg = [] {
    auto* r = new PluginRegistry;
    PluginConfig config;
    for (const char* name : {"format-mp3", "format-flac", "format-ogg-vorbis",
                             "format-opus", "format-mp4"})
      config.plugins.push_back({name, "", "", 0, {}, "", ""});
    r->LoadAll(config, {NOMTAG_TEST_PLUGIN_DIR});
    return r;
  }();
  return *reg;
}

const FormatPlugin& Format(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  const FormatPlugin* f = Registry().FormatForExtension(ext);
  if (f == nullptr) throw std::runtime_error("no plugin for " + ext);
  return *f;
}

TagSet Tags(std::initializer_list<std::pair<std::string, TagValues>> kv) {
  return TagSet(kv.begin(), kv.end());
}

}  // namespace nomtag::testing
