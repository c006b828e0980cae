// The Ogg Vorbis format plugin: a Xiph comment in the second header packet.
#include <nomtag/format.h>
#include <taglib/vorbisfile.h>

#include <nomtag/cpp/plugin.hpp>

#include "taglib-common/ogg_xiph_format.h"

namespace {

namespace p = nomtag::plugins;

std::unique_ptr<TagLib::File> Open(TagLib::IOStream* io) {
  return std::make_unique<TagLib::Ogg::Vorbis::File>(io, false);
}
TagLib::Ogg::XiphComment* Comment(TagLib::File* f) {
  return static_cast<TagLib::Ogg::Vorbis::File*>(f)->tag();
}

const char* const kExtensions[] = {"ogg", "oga", nullptr};
const p::OggFlavor kVorbis{"ogg-vorbis",
                           kExtensions,
                           "Ogg Vorbis",
                           std::string_view("\x01vorbis", 7),
                           std::string_view("\x03vorbis", 7),
                           true,
                           3,
                           Open,
                           Comment};

const void* GetInterface(const char* id) {
  return nomtag::sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID)
             ? p::FormatTable<p::kOggFormat<kVorbis>>()
             : nullptr;
}

}  // namespace

NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, "org.nomtag.format.ogg-vorbis",
              "Ogg Vorbis tags (TagLib)", "0.1.0", nullptr, nullptr,
              GetInterface)
