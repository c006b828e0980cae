#include "keys.h"

namespace nomtag::taglib {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string VorbisField(std::string_view key) { return "NOM:" + Upper(key); }

bool ParseVorbisField(std::string_view field, std::string* key,
                      nomtag_key_encoding* encoding) {
  if (field.size() <= 4) return false;
  std::string head = Upper(field.substr(0, 4));
  if (head == "NOM:") {
    *key = Lower(field.substr(4));
    *encoding = NOMTAG_ENCODING_CURRENT;
    return true;
  }
  if (head == "NOM_") {
    *key = Lower(field.substr(4));
    for (char& c : *key)
      if (c == '_') c = '-';
    *encoding = NOMTAG_ENCODING_LEGACY;
    return true;
  }
  return false;
}

bool ParseMp4Name(std::string_view name, std::string* key,
                  nomtag_key_encoding* encoding) {
  if (name.size() > kMp4Prefix.size() &&
      name.substr(0, kMp4Prefix.size()) == kMp4Prefix) {
    *key = std::string(name.substr(kMp4Prefix.size()));
    *encoding = NOMTAG_ENCODING_CURRENT;
    return true;
  }
  if (name.size() > kMp4LegacyPrefix.size() &&
      name.substr(0, kMp4LegacyPrefix.size()) == kMp4LegacyPrefix) {
    *key = std::string(name.substr(kMp4LegacyPrefix.size()));
    *encoding = NOMTAG_ENCODING_LEGACY;
    return true;
  }
  return false;
}

bool ParseId3Description(std::string_view description, std::string* key) {
  if (description.size() <= kId3Prefix.size() ||
      description.substr(0, kId3Prefix.size()) != kId3Prefix)
    return false;
  *key = std::string(description.substr(kId3Prefix.size()));
  return true;
}

}  // namespace nomtag::taglib
