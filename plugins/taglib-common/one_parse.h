// The reads of a format that first walks its own structure (MP3's ID3v2
// tag, FLAC's blocks, MP4's atoms) and then opens the file with TagLib:
// the namespace, the foreign items, or both from one walk and one parse
// (format.h read_tags_with). The plugin supplies the four steps; the
// order and the sinks live here, once.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_ONE_PARSE_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_ONE_PARSE_H_

#include <nomtag/format.h>

#include "foreign_snapshot.h"
#include "sinks.h"

namespace nomtag::plugins {

// Walk is what the structure walk returns; Open opens the stream with
// TagLib (constructed from the stream).
template <class Walk, class Open>
struct OneParse {
  // Throws unless the stream can be read as this format.
  void (*prepare)(const nomtag_stream* stream, bool writable);
  // The plugin's own walk; a broken structure throws (an error, not "no
  // tags").
  Walk (*walk)(const nomtag_stream* stream);
  // Our keys, from the parsed file.
  void (*namespace_of)(Open& open, TagSink& out);
  // Every foreign item, from the walk and the parsed file (the walk may
  // be moved from).
  ForeignItems (*foreign_of)(const nomtag_stream* stream, Walk& walk,
                             Open& open);

  void ReadNamespace(const nomtag_stream* stream,
                     const nomtag_tag_sink* sink) const {
    TagSink out(sink);
    prepare(stream, false);
    walk(stream);
    Open open(stream);
    namespace_of(open, out);
  }
  // Called after prepare(stream, false), as FormatFunctions says.
  ForeignItems Collect(const nomtag_stream* stream) const {
    Walk w = walk(stream);
    Open open(stream);
    return foreign_of(stream, w, open);
  }
  ForeignItems ReadTags(const nomtag_stream* stream,
                        const nomtag_tag_sink* sink) const {
    TagSink out(sink);
    prepare(stream, false);
    Walk w = walk(stream);
    Open open(stream);
    namespace_of(open, out);
    return foreign_of(stream, w, open);
  }
};

// The three reads of R (a OneParse) as the plain functions a
// FormatFunctions table lists.
template <const auto& R>
void ReadNamespaceOf(const nomtag_stream* s, const nomtag_tag_sink* k) {
  R.ReadNamespace(s, k);
}
template <const auto& R>
ForeignItems CollectOf(const nomtag_stream* s) {
  return R.Collect(s);
}
template <const auto& R>
ForeignItems ReadTagsOf(const nomtag_stream* s, const nomtag_tag_sink* k) {
  return R.ReadTags(s, k);
}

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_ONE_PARSE_H_
