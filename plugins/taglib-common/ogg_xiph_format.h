// The format functions of an Ogg container whose tags are a Xiph comment
// (Ogg Vorbis, Opus). Each plugin describes its flavour and forwards its C
// table's calls here; these functions throw sdk::Error, the plugin wraps
// them in sdk::guard.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_XIPH_FORMAT_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_XIPH_FORMAT_H_

#include <nomtag/format.h>
#include <taglib/tfile.h>
#include <taglib/xiphcomment.h>

#include <memory>
#include <string_view>

namespace nomtag::plugins {

struct OggFlavor {
  const char* display_name;        // "Ogg Vorbis", for messages
  std::string_view first_packet;   // magic the identification header opens with
  std::string_view comment_magic;  // what precedes the comment in packet 1
  bool framing_bit;                // a framing bit closes the comment
  uint64_t header_packets;         // packets before the audio
  // Opens the TagLib file over the stream (not owned by the file).
  std::unique_ptr<TagLib::File> (*open)(TagLib::IOStream* stream);
  TagLib::Ogg::XiphComment* (*comment)(TagLib::File* file);
};

void OggProbe(const OggFlavor& f, const nomtag_stream* stream,
              int32_t* out_matches);
void OggReadNamespace(const OggFlavor& f, const nomtag_stream* stream,
                      const nomtag_tag_sink* sink);
void OggReadForeign(const OggFlavor& f, const nomtag_stream* stream,
                    const nomtag_snapshot_sink* sink);
void OggWriteNamespace(const OggFlavor& f, const nomtag_stream* stream,
                       const nomtag_tag* tags, size_t tag_count,
                       const nomtag_write_options* opts);
void OggReadPayload(const OggFlavor& f, const nomtag_stream* stream,
                    const nomtag_payload_sink* sink);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_OGG_XIPH_FORMAT_H_
