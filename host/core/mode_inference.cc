#include "core/mode_inference.h"

#include "core/original_keys.h"
#include "core/write_mode.h"

namespace nomtag {

std::string InferWriteMode(const TagSet& on_disk) {
  if (on_disk.empty()) return "";
  bool only_tiers = true;
  for (const auto& [key, values] : on_disk) {
    // The original system's score keys (labels with spaces) are ours.
    if (!IsValidTagKey(key) && OriginalScoreKey(key).empty()) return "unknown";
    if (!IsTierKey(key)) only_tiers = false;
  }
  return only_tiers ? "minimal" : "full";
}

}  // namespace nomtag
