#include "xiph_comment.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "keys.h"

namespace nomtag::taglib {
namespace {

uint32_t Le32(std::string_view raw, size_t at) {
  if (at + 4 > raw.size())
    throw sdk::Error(NOMTAG_ERR_CORRUPT, "Vorbis comment is truncated");
  auto b = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(raw[at + i]));
  };
  return b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24;
}

std::string_view Take(std::string_view raw, size_t at, uint32_t len) {
  if (at + len > raw.size() || at + len < at)
    throw sdk::Error(NOMTAG_ERR_CORRUPT,
                     "Vorbis comment entry runs past "
                     "the end of its block");
  return raw.substr(at, len);
}

}  // namespace

void ReadXiphNamespace(const TagLib::Ogg::XiphComment* comment,
                       const TagSink& sink) {
  if (comment == nullptr) return;
  const auto& fields = comment->fieldListMap();
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    std::string key;
    nomtag_key_encoding encoding;
    if (!ParseVorbisField(it->first.to8Bit(true), &key, &encoding)) continue;
    for (const auto& value : it->second)
      sink.Add(key, value.to8Bit(true), encoding);
  }
}

void WriteXiphNamespace(TagLib::Ogg::XiphComment* comment,
                        const nomtag_tag* tags, size_t tag_count) {
  std::vector<TagLib::String> ours;
  const auto& fields = comment->fieldListMap();
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    std::string key;
    nomtag_key_encoding encoding;
    if (ParseVorbisField(it->first.to8Bit(true), &key, &encoding))
      ours.push_back(it->first);
  }
  for (const auto& name : ours) comment->removeFields(name);
  for (size_t i = 0; i < tag_count; ++i) {
    TagLib::String field(
        VorbisField(std::string_view(tags[i].key.data, tags[i].key.len)),
        TagLib::String::UTF8);
    for (size_t v = 0; v < tags[i].value_count; ++v) {
      const nomtag_string& s = tags[i].values[v];
      comment->addField(
          field,
          TagLib::String(std::string(s.data, s.len), TagLib::String::UTF8),
          /*replace=*/false);
    }
  }
}

size_t SnapshotVorbisComment(std::string_view raw, const SnapshotSink& sink) {
  size_t at = 0;
  uint32_t vendor_len = Le32(raw, at);
  at += 4;
  sink.Item("vorbis:vendor", Take(raw, at, vendor_len));
  at += vendor_len;
  uint32_t count = Le32(raw, at);
  at += 4;
  std::vector<std::pair<std::string, std::string_view>> foreign;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = Le32(raw, at);
    at += 4;
    std::string_view entry = Take(raw, at, len);
    at += len;
    size_t eq = entry.find('=');
    std::string name = Upper(entry.substr(0, eq));
    std::string key;
    nomtag_key_encoding encoding;
    if (eq != std::string_view::npos && ParseVorbisField(name, &key, &encoding))
      continue;
    // An entry without '=' is kept whole so that its loss shows.
    foreign.emplace_back(
        eq == std::string_view::npos ? "(no '=')" : name,
        eq == std::string_view::npos ? entry : entry.substr(eq + 1));
  }
  std::stable_sort(
      foreign.begin(), foreign.end(),
      [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [name, value] : foreign) sink.Item("vorbis:" + name, value);
  return at;
}

}  // namespace nomtag::taglib
