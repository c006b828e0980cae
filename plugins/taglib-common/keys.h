// How each container spells a `nom` key (SPEC section 3), both ways.
#ifndef NOMTAG_PLUGINS_TAGLIB_COMMON_KEYS_H_
#define NOMTAG_PLUGINS_TAGLIB_COMMON_KEYS_H_

#include <nomtag/format.h>

#include <string>
#include <string_view>

namespace nomtag::taglib {

// "nom:<key>", the TXXX description.
inline constexpr std::string_view kId3Prefix = "nom:";
// "----:com.apple.iTunes:nom.<key>"; the legacy form has "nom:".
inline constexpr std::string_view kMp4Prefix = "----:com.apple.iTunes:nom.";
inline constexpr std::string_view kMp4LegacyPrefix =
    "----:com.apple.iTunes:nom:";

std::string Upper(std::string_view s);
std::string Lower(std::string_view s);

// "NOM:<KEY>", the Vorbis comment field name to write.
std::string VorbisField(std::string_view key);

// If field (any case) is ours, sets *key and *encoding and returns true:
// NOM:<KEY> (current) or NOM_<KEY> with '_' for '-' (legacy).
bool ParseVorbisField(std::string_view field, std::string* key,
                      nomtag_key_encoding* encoding);

// If an MP4 item name is ours, sets *key and *encoding and returns true.
bool ParseMp4Name(std::string_view name, std::string* key,
                  nomtag_key_encoding* encoding);

// If a TXXX description is ours, sets *key and returns true.
bool ParseId3Description(std::string_view description, std::string* key);

}  // namespace nomtag::taglib

#endif  // NOMTAG_PLUGINS_TAGLIB_COMMON_KEYS_H_
