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

namespace {

uint32_t Le32(std::string_view d, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint8_t>(d[at + i]); };
  return b(0) | (b(1) << 8) | (b(2) << 16) | (uint32_t(b(3)) << 24);
}

}  // namespace

RawComment WalkRawComment(std::string_view body) {
  RawComment c;
  size_t at = 0;
  // Lengths come from the file: compute in 64 bits so that a length near
  // 4 GiB cannot wrap around and pass the check (found by fuzzing).
  auto fits = [&](uint64_t n) { return uint64_t{at} + n <= body.size(); };
  if (!fits(4) || !fits(4 + uint64_t{Le32(body, 0)})) {
    c.shape = RawComment::Shape::kBadVendor;
    return c;
  }
  at = 4 + Le32(body, 0);
  if (!fits(4)) {
    c.shape = RawComment::Shape::kBadCount;
    return c;
  }
  const uint32_t count = Le32(body, at);
  at += 4;
  for (uint32_t i = 0; i < count; ++i) {
    if (!fits(4) || !fits(4 + uint64_t{Le32(body, at)})) {
      c.shape = RawComment::Shape::kTruncatedFields;
      return c;
    }
    const uint32_t len = Le32(body, at);
    c.fields.push_back(body.substr(at + 4, len));
    at += 4 + len;
  }
  c.end = at;
  return c;
}

namespace {

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

bool IsOurField(std::string_view field) {
  const size_t eq = field.find('=');
  return eq != std::string_view::npos &&
         ParseVorbisField(field.substr(0, eq)).has_value();
}

}  // namespace

std::optional<std::string> SpliceXiphComment(
    std::string_view body, const std::vector<DesiredTag>& desired) {
  std::string out(4, '\0');  // an empty vendor string
  std::vector<std::string_view> fields;
  std::string_view tail;
  if (!body.empty()) {
    const RawComment c = WalkRawComment(body);
    if (c.shape != RawComment::Shape::kWhole) return std::nullopt;
    out.assign(body.substr(0, 4 + Le32(body, 0)));
    for (std::string_view f : c.fields)
      if (!IsOurField(f)) fields.push_back(f);
    tail = body.substr(c.end);
  }
  std::string ours;
  uint32_t count = static_cast<uint32_t>(fields.size());
  for (const DesiredTag& d : desired)
    for (const std::string& v : d.values) {
      const std::string field = VorbisField(d.key) + "=" + v;
      PutLe32(ours, static_cast<uint32_t>(field.size()));
      ours += field;
      ++count;
    }
  PutLe32(out, count);
  for (std::string_view f : fields) {
    PutLe32(out, static_cast<uint32_t>(f.size()));
    out += f;
  }
  out += ours;
  out += tail;
  return out;
}

std::string ForeignCommentBytes(std::string_view body) {
  const RawComment c = WalkRawComment(body);
  if (c.shape != RawComment::Shape::kWhole) return std::string(body);
  std::string out;
  const uint32_t vendor = Le32(body, 0);
  if (vendor > 0) out = body.substr(0, 4 + vendor);
  for (std::string_view f : c.fields) {
    if (IsOurField(f)) continue;
    PutLe32(out, static_cast<uint32_t>(f.size()));
    out += f;
  }
  out += body.substr(c.end);
  return out;
}

void CollectRawCommentStructure(const TagLib::ByteVector& packet,
                                ForeignItems& items) {
  const RawComment c =
      WalkRawComment(std::string_view(packet.data(), packet.size()));
  if (c.shape == RawComment::Shape::kBadVendor) {
    items.Add("struct:vorbis-comment", "malformed vendor");
    return;
  }
  if (c.shape == RawComment::Shape::kBadCount) {
    items.Add("struct:vorbis-comment", "malformed count");
    return;
  }
  std::vector<std::string> names;
  for (std::string_view field : c.fields) {
    size_t eq = field.find('=');
    std::string name = eq == std::string_view::npos
                           ? "(no '=')"
                           : std::string(field.substr(0, eq));
    for (char& ch : name) ch = static_cast<char>(std::toupper(ch));
    if (ParseVorbisField(name)) continue;
    names.push_back(name);
  }
  if (c.shape == RawComment::Shape::kTruncatedFields)
    names.push_back("(truncated field list)");
  std::sort(names.begin(), names.end());
  std::string summary = std::to_string(names.size()) + " fields:";
  for (const auto& n : names) summary += " " + n;
  items.Add("struct:vorbis-comment", summary);
}

}  // namespace nomtag::plugins
