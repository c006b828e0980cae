// Mood tiers (SPEC section 4): which labels enter mood-strict, mood-regular
// and mood-loose, from calibrated scores.
//
// A label enters a tier when its calibrated value p, its ratio to the
// calibrated value of its opposite (p / counter) and the gap (p - counter)
// all reach the tier's thresholds, and its spread across segments stays
// under the tier's stability cap. Tiers are inclusive: strict ⊂ regular ⊂
// loose. A label and its opposite in the same tier cancel out. The
// defaults are the original system's (Nomarr's cascade and stability
// thresholds); every number is configurable in plugins.yaml (`tiers:`).
#ifndef NOMTAG_CORE_TIERS_H_
#define NOMTAG_CORE_TIERS_H_

#include <set>
#include <string>
#include <vector>

namespace nomtag {

struct TierLevel {
  double probability;  // p >= this
  double ratio;        // p / counter >= this
  double gap;          // p - counter >= this
  double max_spread;   // spread < this (unknown spread: no cap)
};

struct TierRule {
  TierLevel strict{0.8, 1.2, 0.15, 0.08};
  TierLevel regular{0.75, 1.1, 0.08, 0.15};
  TierLevel loose{0.6, 1.02, 0.03, 0.25};
};

// One label's calibrated evidence.
struct TierCandidate {
  std::string label;
  std::string opposite;    // "" none
  double probability = 0;  // calibrated
  double counter = 0;      // calibrated value of the opposite (0: none)
  double spread = -1;      // < 0 unknown
};

enum class Tier { kNone = 0, kLoose = 1, kRegular = 2, kStrict = 3 };

Tier TierOf(const TierCandidate& c, const TierRule& rule);

struct Tiers {
  std::set<std::string> strict, regular, loose;  // strict ⊂ regular ⊂ loose
};

// The tiers of a file's candidates, opposites cancelled per tier.
Tiers AssignTiers(const std::vector<TierCandidate>& candidates,
                  const TierRule& rule);

}  // namespace nomtag

#endif  // NOMTAG_CORE_TIERS_H_
