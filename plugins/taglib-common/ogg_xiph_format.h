// The format of an Ogg container whose tags are a Xiph comment (Ogg
// Vorbis, Opus): each plugin describes its flavour and hands the table of
// FormatTable<kOggFormat<flavour>>() out (format_table.h).
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_XIPH_FORMAT_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_XIPH_FORMAT_H_

#include <nomtag/format.h>
#include <taglib/tfile.h>
#include <taglib/xiphcomment.h>

#include <memory>
#include <string_view>

#include "format_table.h"

namespace nomtag::plugins {

struct OggFlavor {
  const char* container;           // format.h: "ogg-vorbis", "opus"
  const char* const* extensions;   // NULL-ended, lower case, no dot
  const char* display_name;        // "Ogg Vorbis", for messages
  std::string_view first_packet;   // magic the identification header opens with
  std::string_view comment_magic;  // what precedes the comment in packet 1
  bool framing_bit;                // a framing bit closes the comment
  uint64_t header_packets;         // packets before the audio
  // Opens the TagLib file over the stream (not owned by the file).
  std::unique_ptr<TagLib::File> (*open)(TagLib::IOStream* stream);
  TagLib::Ogg::XiphComment* (*comment)(TagLib::File* file);
};

// The calls of a flavour's format, for kOggFormat.
bool OggMatches(const OggFlavor& f, const nomtag_stream* s);
void OggPrepare(const OggFlavor& f, const nomtag_stream* s, bool writable);
void OggReadNamespace(const OggFlavor& f, const nomtag_stream* s,
                      const nomtag_tag_sink* k);
ForeignItems OggCollect(const OggFlavor& f, const nomtag_stream* s);
ForeignItems OggReadTags(const OggFlavor& f, const nomtag_stream* s,
                         const nomtag_tag_sink* k);
void OggWriteNamespace(const OggFlavor& f, const nomtag_stream* s,
                       const nomtag_tag* t, size_t n,
                       const nomtag_write_options* o);
void OggReadPayload(const OggFlavor& f, const nomtag_stream* s,
                    const nomtag_payload_sink* k);

// The functions of flavour F's format, for FormatTable<kOggFormat<F>>().
template <const OggFlavor& F>
inline const FormatFunctions kOggFormat{
    F.container,
    F.extensions,
    [](const nomtag_stream* s) { return OggMatches(F, s); },
    [](const nomtag_stream* s, bool w) { OggPrepare(F, s, w); },
    [](const nomtag_stream* s, const nomtag_tag_sink* k) {
      OggReadNamespace(F, s, k);
    },
    [](const nomtag_stream* s) { return OggCollect(F, s); },
    [](const nomtag_stream* s, const nomtag_tag* t, size_t n,
       const nomtag_write_options* o) { OggWriteNamespace(F, s, t, n, o); },
    [](const nomtag_stream* s, const nomtag_payload_sink* k) {
      OggReadPayload(F, s, k);
    },
    [](const nomtag_stream* s, const nomtag_tag_sink* k) {
      return OggReadTags(F, s, k);
    }};

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_XIPH_FORMAT_H_
