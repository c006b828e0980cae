// navidrome_tag_keys FILE...: prints, per file, the tag names and values
// Navidrome's TagLib reader hands to its tag mapping, so that the Navidrome
// example of docs/interop.md can be checked without running Navidrome.
//
// What it reproduces (navidrome adapters/taglib, taglib_wrapper.cpp and
// taglib_wrapper.go): every key of TagLib's PropertyMap (an ID3v2 TXXX
// frame's key is its description, a Vorbis field's key its name), and for
// MP4 every item of the ilst by its atom name, with the prefix
// "----:com.apple.itunes:" trimmed as Go's strings.TrimPrefix does
// (case-sensitively). Names are lower-cased and values trimmed of spaces.
// Navidrome then looks each configured alias up, lower-cased, in this map.
//
// Output: one JSON object per file and line: {"name": ["value", ...]}.
#include <taglib/fileref.h>
#include <taglib/mp4file.h>
#include <taglib/tpropertymap.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    TagLib::FileRef f(argv[i], true, TagLib::AudioProperties::Fast);
    if (f.isNull()) {
      std::fprintf(stderr, "%s: TagLib cannot read it\n", argv[i]);
      return 1;
    }
    std::map<std::string, std::vector<std::string>> tags;
    auto put = [&tags](const std::string& key, const std::string& value) {
      if (key.empty()) return;
      tags[Lower(key)].push_back(Trim(value));
    };
    // Navidrome collects the MP4 items first into its Go map and then the
    // PropertyMap; the order only matters for values of one name.
    if (auto* mp4 = dynamic_cast<TagLib::MP4::File*>(f.file())) {
      const std::string prefix = "----:com.apple.itunes:";
      for (const auto& [name, item] : mp4->tag()->itemMap()) {
        std::string key = name.to8Bit(true);
        if (key.rfind(prefix, 0) == 0) key = key.substr(prefix.size());
        for (const auto& value : item.toStringList())
          put(key, value.to8Bit(true));
      }
    }
    const TagLib::PropertyMap properties = f.file()->properties();
    for (const auto& [key, values] : properties)
      for (const auto& value : values)
        put(key.to8Bit(true), value.to8Bit(true));
    std::printf("%s\n", nlohmann::json(tags).dump().c_str());
  }
  return 0;
}
