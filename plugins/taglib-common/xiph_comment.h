// The `nom` namespace in a Vorbis comment (FLAC, Ogg Vorbis, Opus).
//
// Reading and writing go through TagLib's XiphComment field map. The
// foreign snapshot is taken from the raw comment bytes instead, so that an
// entry TagLib would drop or alter on save (no '=', invalid UTF-8, an old
// COVERART field) shows as a difference and the write is refused.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_XIPH_COMMENT_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_XIPH_COMMENT_H_

#include <nomtag/format.h>
#include <taglib/xiphcomment.h>

#include <string_view>

#include "sinks.h"

namespace nomtag::taglib {

// Reports every NOM:/NOM_ field of comment (may be null: nothing).
void ReadXiphNamespace(const TagLib::Ogg::XiphComment* comment,
                       const TagSink& sink);

// Removes every NOM:/NOM_ field, then adds NOM:<KEY> per desired value.
void WriteXiphNamespace(TagLib::Ogg::XiphComment* comment,
                        const nomtag_tag* tags, size_t tag_count);

// Parses a raw comment structure (vendor length, vendor, count, entries;
// little-endian, as in a FLAC VORBIS_COMMENT block or an Ogg comment
// packet after its magic) and reports the vendor and every foreign entry,
// field names upper-cased (they are case-insensitive, and TagLib
// upper-cases them on save), sorted by name with repeated fields kept in
// file order (TagLib writes fields grouped by name). Returns the number of
// bytes the structure used. Throws sdk::Error(NOMTAG_ERR_CORRUPT) when the
// structure runs past the data.
size_t SnapshotVorbisComment(std::string_view raw, const SnapshotSink& sink);

}  // namespace nomtag::taglib

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_XIPH_COMMENT_H_
