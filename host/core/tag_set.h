// TagSet: the `nom` namespace of one file, as logical keys and values.
//
// Keys are the logical key without the "nom:" prefix ("mood-strict");
// values are UTF-8 texts, more than one for a multi-value tag. The same
// type describes what a file holds, what the database holds and what a
// write should leave, so the three compare with ==.
#ifndef NOMTAG_CORE_TAG_SET_H_
#define NOMTAG_CORE_TAG_SET_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nomtag {

using TagValues = std::vector<std::string>;
using TagSet = std::map<std::string, TagValues>;

// True when key matches [a-z0-9][a-z0-9._-]{0,127} (SPEC section 3).
bool IsValidTagKey(std::string_view key);

// The shortest text that reads back to the same double, locale-independent
// ("0.8125", never "0,8125" or "8.125000e-01").
std::string FormatNumber(double value);

// A short text that changes whenever tags change (64-bit FNV-1a over a
// length-prefixed canonical form, as 16 hex digits): what nomtag wrote
// into a file, compared with what a later scan reads there. Not a
// defence against someone crafting a collision, only a change detector.
std::string TagSetDigest(const TagSet& tags);

// Why no container can store value (a NUL byte anywhere; an empty text
// where allow_empty is false, as in Vorbis comments), or "" when it can.
std::string UnstorableValueReason(std::string_view value, bool allow_empty);

}  // namespace nomtag

#endif  // NOMTAG_CORE_TAG_SET_H_
