// The format of an Ogg container whose tags are a Xiph comment (Ogg
// Vorbis, Opus): each plugin describes its flavour and hands the table of
// OggFormat(flavour) out (format_table.h).
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

// The functions of this flavour's format (which must outlive the plugin
// library). Like FormatTable, it serves the one format a plugin library
// holds: every call must pass the same flavour.
const FormatFunctions& OggFormat(const OggFlavor& flavor);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_XIPH_FORMAT_H_
