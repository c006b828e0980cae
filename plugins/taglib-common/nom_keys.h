// How each container spells a `nom` key on disk (SPEC section 3).
//
// One place for the prefixes, so readers, writers and tests agree on what
// is ours: every other spelling (`nomad`, `NOMINATED`, TXXX `nom` without
// the colon, a prefix with nothing after it) is foreign.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_NOM_KEYS_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_NOM_KEYS_H_

#include <nomtag/format.h>

#include <optional>
#include <string>
#include <string_view>

namespace nomtag::plugins {

// A key found on disk: the logical key and which spelling it came from.
struct NomKey {
  std::string key;
  nomtag_key_encoding encoding;
};

// ID3v2 TXXX description "nom:<key>" (case-sensitive).
std::optional<NomKey> ParseId3Description(std::string_view description);
std::string Id3Description(std::string_view key);

// MP4 item names "----:com.apple.iTunes:nom.<key>" (current) and
// "----:com.apple.iTunes:nom:<key>" (legacy, unwritable by TagLib 1.13).
std::optional<NomKey> ParseMp4Name(std::string_view item_name);
std::string Mp4Name(std::string_view key);

// Vorbis field names "NOM:<KEY>" (current) and "NOM_<KEY>" with '_' for
// '-' (legacy); case-insensitive, reported lower-cased.
std::optional<NomKey> ParseVorbisField(std::string_view field_name);
std::string VorbisField(std::string_view key);

}  // namespace nomtag::plugins

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_NOM_KEYS_H_
