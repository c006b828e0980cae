// The Opus format plugin: a Xiph comment in the OpusTags packet.
#include <nomtag/format.h>
#include <taglib/opusfile.h>

#include <nomtag/cpp/error.hpp>
#include <nomtag/cpp/plugin.hpp>

#include "taglib-common/ogg_xiph_format.h"

namespace {

using nomtag::sdk::guard;
namespace p = nomtag::plugins;

std::unique_ptr<TagLib::File> Open(TagLib::IOStream* io) {
  return std::make_unique<TagLib::Ogg::Opus::File>(io, false);
}
TagLib::Ogg::XiphComment* Comment(TagLib::File* f) {
  return static_cast<TagLib::Ogg::Opus::File*>(f)->tag();
}

const p::OggFlavor kOpus{"Opus",
                         std::string_view("OpusHead", 8),
                         std::string_view("OpusTags", 8),
                         false,
                         2,
                         Open,
                         Comment};

nomtag_status Probe(const nomtag_stream* s, int32_t* m, nomtag_error* e) {
  return guard(e, [&] { p::OggProbe(kOpus, s, m); });
}
nomtag_status ReadNamespace(const nomtag_stream* s, const nomtag_tag_sink* k,
                            nomtag_error* e) {
  return guard(e, [&] { p::OggReadNamespace(kOpus, s, k); });
}
nomtag_status ReadForeign(const nomtag_stream* s, const nomtag_snapshot_sink* k,
                          nomtag_error* e) {
  return guard(e, [&] { p::OggReadForeign(kOpus, s, k); });
}
nomtag_status WriteNamespace(const nomtag_stream* s, const nomtag_tag* t,
                             size_t n, const nomtag_write_options* o,
                             nomtag_error* e) {
  return guard(e, [&] { p::OggWriteNamespace(kOpus, s, t, n, o); });
}
nomtag_status ReadPayload(const nomtag_stream* s, const nomtag_payload_sink* k,
                          nomtag_error* e) {
  return guard(e, [&] { p::OggReadPayload(kOpus, s, k); });
}

const char* const kExtensions[] = {"opus", nullptr};
const nomtag_format kFormat{
    sizeof(nomtag_format), "opus",      kExtensions,    Probe,
    ReadNamespace,         ReadForeign, WriteNamespace, ReadPayload};

const void* GetInterface(const char* id) {
  return nomtag::sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID) ? &kFormat
                                                                   : nullptr;
}

}  // namespace

NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, "org.nomtag.format.opus",
              "Opus tags (TagLib)", "0.1.0", nullptr, nullptr, GetInterface)
