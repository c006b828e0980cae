// The Opus format plugin: a Xiph comment in the OpusTags packet.
#include <nomtag/format.h>
#include <taglib/opusfile.h>

#include <nomtag/cpp/plugin.hpp>

#include "taglib-common/ogg_xiph_format.h"

namespace {

namespace p = nomtag::plugins;

std::unique_ptr<TagLib::File> Open(TagLib::IOStream* io) {
  return std::make_unique<TagLib::Ogg::Opus::File>(io, false);
}
TagLib::Ogg::XiphComment* Comment(TagLib::File* f) {
  return static_cast<TagLib::Ogg::Opus::File*>(f)->tag();
}

const char* const kExtensions[] = {"opus", nullptr};
const p::OggFlavor kOpus{"opus",
                         kExtensions,
                         "Opus",
                         std::string_view("OpusHead", 8),
                         std::string_view("OpusTags", 8),
                         false,
                         2,
                         Open,
                         Comment};

const void* GetInterface(const char* id) {
  return nomtag::sdk::interface_is(id, NOMTAG_FORMAT_INTERFACE_ID)
             ? p::FormatTable<p::kOggFormat<kOpus>>()
             : nullptr;
}

}  // namespace

NOMTAG_PLUGIN(NOMTAG_KIND_FORMAT, "org.nomtag.format.opus",
              "Opus tags (TagLib)", "0.1.0", nullptr, nullptr, GetInterface)
