#include "core/original_keys.h"

#include <algorithm>

namespace nomtag {

std::string OriginalScoreKey(const std::string& key) {
  constexpr std::string_view kMiddle = "_musicnn_";
  const size_t middle = key.find(kMiddle);
  // A label before, a model stem after.
  if (middle == std::string::npos || middle == 0 ||
      middle + kMiddle.size() == key.size())
    return "";
  std::string ours = key;
  std::replace(ours.begin(), ours.end(), ' ', '-');
  return IsValidTagKey(ours) ? ours : "";
}

TagSet OriginalScores(const TagSet& on_disk) {
  TagSet out;
  for (const auto& [key, values] : on_disk) {
    std::string ours = OriginalScoreKey(key);
    if (ours.empty() || (ours != key && on_disk.count(ours))) continue;
    out[ours] = values;
  }
  return out;
}

}  // namespace nomtag
