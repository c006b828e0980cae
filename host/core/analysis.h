// Analysis results as the core sees them: what inference plugins stored
// for one file (head outputs and descriptors), and the tags that follow
// from them (SPEC section 4).
//
//   - full mode: one score tag per head output, key "<label>_<model>"
//     ("energetic_descriptors-energy-1"), value the raw score; one tag per
//     descriptor ("bpm", "loudness-lufs");
//   - the tier tags mood-strict / mood-regular / mood-loose, from the
//     calibrated scores of the outputs a plugin declared as tier sources,
//     only while a calibration is active.
//
// Analysis tags are merged over the tags imported into the database: a key
// the analysis produces wins.
#ifndef NOMTAG_CORE_ANALYSIS_H_
#define NOMTAG_CORE_ANALYSIS_H_

#include <string>
#include <vector>

#include "core/calibration.h"
#include "core/tag_set.h"
#include "core/tiers.h"

namespace nomtag {

struct HeadScore {
  std::string plugin_id;
  std::string model_id;  // versioned: "descriptors-energy/1"
  std::string label;     // "energetic"
  double score = 0;      // raw, in [0,1]
  double spread = -1;    // std across segments; < 0 unknown
  bool tier_source = false;
  std::string opposite;  // label of the opposite output ("" none)
};

struct DescriptorValue {
  std::string plugin_id;
  std::string name;
  double value = 0;
};

struct FileAnalysis {
  std::vector<HeadScore> heads;
  std::vector<DescriptorValue> descriptors;
};

// A text made into a tag key: lower case, runs of anything outside
// [a-z0-9._-] become one '-', trimmed to 128 characters; "" when nothing
// usable is left.
std::string TagKeyPart(const std::string& text);

// The tags analysis yields for one file. calibration null: no tier tags.
TagSet AnalysisTags(const FileAnalysis& analysis,
                    const Calibration* calibration, const TierRule& rule);

// database tags with analysis tags merged over them.
TagSet MergeTags(TagSet database_tags, const TagSet& analysis_tags);

}  // namespace nomtag

#endif  // NOMTAG_CORE_ANALYSIS_H_
