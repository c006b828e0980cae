#include "core/tiers.h"

#include <algorithm>

namespace nomtag {
namespace {

bool Reaches(const TierCandidate& c, const TierLevel& level) {
  constexpr double kEps = 1e-9;  // a zero counter makes the ratio huge
  double ratio = c.probability / std::max(c.counter, kEps);
  double gap = c.probability - c.counter;
  bool stable = c.spread < 0 || c.spread < level.max_spread;
  return stable && c.probability >= level.probability && ratio >= level.ratio &&
         gap >= level.gap;
}

void Cancel(std::set<std::string>* tier,
            const std::vector<TierCandidate>& candidates) {
  std::set<std::string> drop;
  for (const auto& c : candidates)
    if (!c.opposite.empty() && tier->count(c.label) &&
        tier->count(c.opposite)) {
      drop.insert(c.label);
      drop.insert(c.opposite);
    }
  for (const auto& label : drop) tier->erase(label);
}

}  // namespace

Tier TierOf(const TierCandidate& c, const TierRule& rule) {
  if (Reaches(c, rule.strict)) return Tier::kStrict;
  if (Reaches(c, rule.regular)) return Tier::kRegular;
  if (Reaches(c, rule.loose)) return Tier::kLoose;
  return Tier::kNone;
}

Tiers AssignTiers(const std::vector<TierCandidate>& candidates,
                  const TierRule& rule) {
  Tiers out;
  for (const auto& c : candidates) {
    Tier t = TierOf(c, rule);
    if (t >= Tier::kStrict) out.strict.insert(c.label);
    if (t >= Tier::kRegular) out.regular.insert(c.label);
    if (t >= Tier::kLoose) out.loose.insert(c.label);
  }
  Cancel(&out.strict, candidates);
  Cancel(&out.regular, candidates);
  Cancel(&out.loose, candidates);
  return out;
}

}  // namespace nomtag
