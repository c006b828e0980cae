#include "core/write_mode.h"

namespace nomtag {

Result<WriteMode> ParseWriteMode(std::string_view text) {
  if (text == "none") return WriteMode::kNone;
  if (text == "minimal") return WriteMode::kMinimal;
  if (text == "full") return WriteMode::kFull;
  return Status::InvalidArgument("unknown write mode '" + std::string(text) +
                                 "' (expected none, minimal or full)");
}

const char* WriteModeName(WriteMode mode) {
  switch (mode) {
    case WriteMode::kNone:
      return "none";
    case WriteMode::kMinimal:
      return "minimal";
    case WriteMode::kFull:
      return "full";
  }
  return "?";
}

bool IsTierKey(std::string_view key) {
  return key == "mood-strict" || key == "mood-regular" || key == "mood-loose";
}

TagSet DesiredTags(const TagSet& database_tags, WriteMode mode,
                   bool calibration_active) {
  TagSet out;
  if (mode == WriteMode::kNone) return out;
  for (const auto& [key, values] : database_tags) {
    bool tier = IsTierKey(key);
    if (tier && !calibration_active) continue;
    if (mode == WriteMode::kMinimal && !tier) continue;
    out.emplace(key, values);
  }
  return out;
}

}  // namespace nomtag
