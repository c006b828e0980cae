// The original system's score keys, recognised in files nomtag scans.
//
// The original (Python, Essentia's MusiCNN heads) writes one tag per head
// output, nom:{label}_musicnn_{model stem}, and its labels contain spaces
// ("nom:not happy_musicnn_mood_happy-msd-musicnn-1"), which nomtag's key
// grammar (SPEC section 3) refuses. Such a key is ours all the same: the
// same score nomtag's inference-onnx plugin writes as
// "not-happy_musicnn_mood_happy-msd-musicnn-1".
#ifndef NOMTAG_CORE_ORIGINAL_KEYS_H_
#define NOMTAG_CORE_ORIGINAL_KEYS_H_

#include <string>

#include "core/tag_set.h"

namespace nomtag {

// nomtag's key for an original score key (its spaces as '-'), `key`
// itself for one already valid, "" when `key` (namespace prefix removed)
// is not a score key of the original's form.
std::string OriginalScoreKey(const std::string& key);

// The original's score tags of a namespace read from disk, under nomtag's
// keys, values as found; the other keys left out. A namespace holding a
// key both ways (spaces and '-') keeps the valid one's values.
TagSet OriginalScores(const TagSet& on_disk);

}  // namespace nomtag

#endif  // NOMTAG_CORE_ORIGINAL_KEYS_H_
