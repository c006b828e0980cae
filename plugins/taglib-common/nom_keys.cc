#include "nom_keys.h"

#include <cctype>

namespace nomtag::plugins {
namespace {

constexpr std::string_view kId3Prefix = "nom:";
constexpr std::string_view kMp4Current = "----:com.apple.iTunes:nom.";
constexpr std::string_view kMp4Legacy = "----:com.apple.iTunes:nom:";
constexpr std::string_view kVorbisCurrent = "NOM:";
constexpr std::string_view kVorbisLegacy = "NOM_";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(c));
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(c));
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         Upper(s.substr(0, prefix.size())) == prefix;
}

}  // namespace

std::optional<NomKey> ParseId3Description(std::string_view description) {
  if (description.size() <= kId3Prefix.size() ||
      description.substr(0, kId3Prefix.size()) != kId3Prefix)
    return std::nullopt;
  return NomKey{std::string(description.substr(kId3Prefix.size())),
                NOMTAG_ENCODING_CURRENT};
}

std::string Id3Description(std::string_view key) {
  return std::string(kId3Prefix) + std::string(key);
}

std::optional<NomKey> ParseMp4Name(std::string_view name) {
  for (auto [prefix, encoding] :
       {std::pair{kMp4Current, NOMTAG_ENCODING_CURRENT},
        std::pair{kMp4Legacy, NOMTAG_ENCODING_LEGACY}}) {
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix)
      return NomKey{std::string(name.substr(prefix.size())),
                    static_cast<nomtag_key_encoding>(encoding)};
  }
  return std::nullopt;
}

std::string Mp4Name(std::string_view key) {
  return std::string(kMp4Current) + std::string(key);
}

std::optional<NomKey> ParseVorbisField(std::string_view name) {
  if (name.size() <= kVorbisCurrent.size()) return std::nullopt;
  std::string_view rest = name.substr(kVorbisCurrent.size());
  if (StartsWithNoCase(name, kVorbisCurrent))
    return NomKey{Lower(rest), NOMTAG_ENCODING_CURRENT};
  if (StartsWithNoCase(name, kVorbisLegacy)) {
    std::string key = Lower(rest);
    for (char& c : key)
      if (c == '_') c = '-';
    return NomKey{key, NOMTAG_ENCODING_LEGACY};
  }
  return std::nullopt;
}

std::string VorbisField(std::string_view key) {
  return std::string(kVorbisCurrent) + Upper(key);
}

}  // namespace nomtag::plugins
