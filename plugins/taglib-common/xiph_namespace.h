// The `nom` namespace and the foreign items of a Xiph (Vorbis) comment, as
// FLAC, Ogg Vorbis and Opus share it.
//
// Everything goes through XiphComment's field map (never PropertyMap);
// field names there are upper-case, and ours are NOM:<KEY> and the legacy
// NOM_<KEY> (nom_keys.h).
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_XIPH_NAMESPACE_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_XIPH_NAMESPACE_H_

#include <taglib/tbytevector.h>
#include <taglib/xiphcomment.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "foreign_snapshot.h"
#include "plugin_support.h"
#include "sinks.h"

namespace nomtag::plugins {

// Reports every namespace field, in field-map order, values in file order.
void ReadXiphNamespace(const TagLib::Ogg::XiphComment& comment,
                       const TagSink& sink);

// Adds the vendor, every foreign field and every picture of the comment.
void CollectXiphForeign(TagLib::Ogg::XiphComment& comment, ForeignItems& items);

// A Xiph comment as raw bytes (vendor, count, length-prefixed
// "NAME=value" fields; no framing bit), walked independently of TagLib.
struct RawComment {
  enum class Shape { kWhole, kBadVendor, kBadCount, kTruncatedFields };
  Shape shape = Shape::kWhole;
  std::vector<std::string_view> fields;  // into the walked bytes, in order
  size_t end = 0;  // just past the last field; meaningful when kWhole
};
RawComment WalkRawComment(std::string_view body);

// The comment `body` (vendor, count, fields, then anything after them)
// with our fields replaced: the vendor and every foreign field keep their
// bytes and order, ours (NOM:<KEY>=value, one per value) follow them, then
// what followed the fields. An empty body is no comment yet: the result
// has an empty vendor. Nothing when the body is malformed.
std::optional<std::string> SpliceXiphComment(
    std::string_view body, const std::vector<DesiredTag>& desired);

// The vendor string (when not empty) and the foreign fields of a comment
// body, as on disk (length prefixes included), in order, then what follows
// the fields: what a splice keeps byte for byte. A malformed body gives all
// of its bytes.
std::string ForeignCommentBytes(std::string_view body);

// Walks a raw comment packet and adds one structure item:
// how many fields are not ours and their names, sorted (TagLib re-renders
// fields in name order). A field TagLib skipped on parse changes this item
// after a save. Malformed data is reported as such in the item rather than
// thrown: the snapshot still compares.
void CollectRawCommentStructure(const TagLib::ByteVector& packet,
                                ForeignItems& items);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_XIPH_NAMESPACE_H_
