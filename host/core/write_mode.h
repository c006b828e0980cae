// WriteMode: how much of the database a library projects into its files
// (SPEC section 2), and the desired tag set that follows from it.
//
//   none     no `nom` tags at all
//   minimal  only the mood tiers (mood-strict, mood-regular, mood-loose)
//   full     every tag the database holds for the file
//
// Tier tags need calibration: while none is active they are dropped from
// every mode.
#ifndef NOMTAG_CORE_WRITE_MODE_H_
#define NOMTAG_CORE_WRITE_MODE_H_

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/tag_set.h"

namespace nomtag {

enum class WriteMode { kNone, kMinimal, kFull };

// "none" | "minimal" | "full"; anything else is InvalidArgument naming the
// accepted values.
Result<WriteMode> ParseWriteMode(std::string_view text);
const char* WriteModeName(WriteMode mode);

// mood-strict, mood-regular, mood-loose.
bool IsTierKey(std::string_view key);

// The tags a file should hold under mode, given what the database holds.
TagSet DesiredTags(const TagSet& database_tags, WriteMode mode,
                   bool calibration_active);

}  // namespace nomtag

#endif  // NOMTAG_CORE_WRITE_MODE_H_
