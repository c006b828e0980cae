#include "musicnn_heads.h"

namespace nomtag::musicnn {
namespace {

struct Known {
  const char* head;
  const char* label0;  // the original's index 0
  const char* label1;
  bool published_swaps;  // Essentia publishes the other order
};

const Known kKnown[] = {
    {"danceability", "easy dancing", "hard dancing", false},
    {"gender", "high-pitch vocal", "low-pitch vocal", false},
    {"mood_aggressive", "aggressive", "relaxed", false},
    {"mood_happy", "happy", "not happy", false},
    {"mood_party", "party-like", "not party-like", true},
    {"mood_relaxed", "relaxed", "not relaxed", true},
    {"mood_sad", "sad", "not sad", true},
    // Sources disagree on its order: the original's is kept.
    {"tonal_atonal", "tonal", "atonal", false},
    {"voice_instrumental", "has vocals", "instrumental only", true},
};

#define NOMTAG_TIER(stem, label, opposite)                               \
  {                                                                      \
    sizeof(nomtag_tier_source), "musicnn_" stem "-msd-musicnn-1", label, \
        opposite                                                         \
  }

const nomtag_tier_source kTierSources[] = {
    NOMTAG_TIER("mood_happy", "happy", "not happy"),
    NOMTAG_TIER("mood_happy", "not happy", "happy"),
    NOMTAG_TIER("mood_sad", "sad", "not sad"),
    NOMTAG_TIER("mood_sad", "not sad", "sad"),
    NOMTAG_TIER("mood_party", "party-like", "not party-like"),
    NOMTAG_TIER("mood_party", "not party-like", "party-like"),
    NOMTAG_TIER("mood_relaxed", "relaxed", "not relaxed"),
    NOMTAG_TIER("mood_relaxed", "not relaxed", "relaxed"),
    NOMTAG_TIER("mood_aggressive", "aggressive", "relaxed"),
    NOMTAG_TIER("mood_aggressive", "relaxed", "aggressive"),
};

}  // namespace

std::string HeadName(const std::string& stem) {
  return stem.substr(0, stem.find('-'));
}

std::string ModelId(const std::string& stem) { return "musicnn_" + stem; }

std::vector<std::string> DefaultLabels(const std::string& head,
                                       ClassOrder order) {
  for (const Known& k : kKnown)
    if (head == k.head) {
      if (order == ClassOrder::kPublished && k.published_swaps)
        return {k.label1, k.label0};
      return {k.label0, k.label1};
    }
  return {};
}

const nomtag_tier_source* TierSources(size_t* count) {
  *count = sizeof kTierSources / sizeof kTierSources[0];
  return kTierSources;
}

}  // namespace nomtag::musicnn
