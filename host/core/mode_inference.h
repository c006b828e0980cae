// What a file's namespace says about who wrote it and how (SPEC section 6),
// for files nomtag has not written itself.
#ifndef NOMTAG_CORE_MODE_INFERENCE_H_
#define NOMTAG_CORE_MODE_INFERENCE_H_

#include <string>

#include "core/tag_set.h"

namespace nomtag {

// "" (no keys: never written), "minimal" (only tier keys), "full" (any
// other valid key, or a score key of the original system: see
// original_keys.h), "unknown" (another key that breaks the key grammar).
std::string InferWriteMode(const TagSet& on_disk);

}  // namespace nomtag

#endif  // NOMTAG_CORE_MODE_INFERENCE_H_
