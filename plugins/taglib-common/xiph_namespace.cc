#include "xiph_namespace.h"

#include <taglib/flacpicture.h>

#include <algorithm>
#include <cctype>

#include "nom_keys.h"

namespace nomtag::plugins {

void ReadXiphNamespace(const TagLib::Ogg::XiphComment& comment,
                       const TagSink& sink) {
  for (const auto& [name, values] : comment.fieldListMap()) {
    auto key = ParseVorbisField(ToStd(name));
    if (!key) continue;
    for (const auto& v : values) sink.Add(key->key, ToStd(v), key->encoding);
  }
}

void CollectXiphForeign(TagLib::Ogg::XiphComment& comment,
                        ForeignItems& items) {
  // A comment TagLib creates has no vendor; an empty vendor and none are
  // the same to every reader.
  if (!comment.vendorID().isEmpty())
    items.Add("vorbis:vendor", ToStd(comment.vendorID()));
  for (const auto& [name, values] : comment.fieldListMap()) {
    if (ParseVorbisField(ToStd(name))) continue;
    std::string data;
    // NUL never occurs in a UTF-8 field value, so it separates them.
    for (const auto& v : values) data += ToStd(v) + '\0';
    items.Add("vorbis:" + ToStd(name), std::move(data));
  }
  int n = 0;
  for (TagLib::FLAC::Picture* p : comment.pictureList()) {
    TagLib::ByteVector rendered = p->render();
    items.Add("vorbis:picture#" + std::to_string(n++), rendered.data(),
              rendered.size());
  }
}

void WriteXiphNamespace(TagLib::Ogg::XiphComment& comment,
                        const std::vector<DesiredTag>& desired) {
  std::vector<TagLib::String> ours;
  for (const auto& [name, values] : comment.fieldListMap())
    if (ParseVorbisField(ToStd(name))) ours.push_back(name);
  for (const auto& name : ours) comment.removeFields(name);
  for (const auto& tag : desired)
    for (const auto& v : tag.values)
      comment.addField(Utf8(VorbisField(tag.key)), Utf8(v), false);
}

namespace {

uint32_t Le32(const TagLib::ByteVector& d, size_t at) {
  return d.toUInt(static_cast<unsigned int>(at), false);
}

}  // namespace

void CollectRawCommentStructure(const TagLib::ByteVector& packet,
                                ForeignItems& items) {
  size_t at = 0;
  // Lengths come from the file: compute in 64 bits so that a length near
  // 4 GiB cannot wrap around and pass the check (found by fuzzing).
  auto fits = [&](uint64_t n) { return uint64_t{at} + n <= packet.size(); };
  std::string summary;
  if (!fits(4) || !fits(4 + uint64_t{Le32(packet, 0)})) {
    items.Add("struct:vorbis-comment", "malformed vendor");
    return;
  }
  at = 4 + Le32(packet, 0);
  if (!fits(4)) {
    items.Add("struct:vorbis-comment", "malformed count");
    return;
  }
  uint32_t count = Le32(packet, at);
  at += 4;
  std::vector<std::string> names;
  for (uint32_t i = 0; i < count; ++i) {
    if (!fits(4) || !fits(4 + uint64_t{Le32(packet, at)})) {
      names.push_back("(truncated field list)");
      break;
    }
    uint32_t len = Le32(packet, at);
    std::string field(packet.data() + at + 4, len);
    at += 4 + len;
    size_t eq = field.find('=');
    std::string name =
        eq == std::string::npos ? "(no '=')" : field.substr(0, eq);
    for (char& c : name) c = static_cast<char>(std::toupper(c));
    if (ParseVorbisField(name)) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  summary = std::to_string(names.size()) + " fields:";
  for (const auto& n : names) summary += " " + n;
  items.Add("struct:vorbis-comment", summary);
}

}  // namespace nomtag::plugins
