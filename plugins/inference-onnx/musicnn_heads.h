// The original system's MusiCNN heads: their labels per output index, the
// class-order decision, and which outputs feed the mood tiers.
//
// The original names a head's outputs "first word of the file stem is
// class 0". For four heads Essentia publishes the other order
// (MODELS.md section 4): mood_party, mood_relaxed, mood_sad and
// voice_instrumental score index 0 = "non_party", "non_relaxed",
// "non_sad", "instrumental" (a pure sine scores 0.9997 "party-like" under
// the original's names). nomtag's default, `class_order: published`,
// names those four by Essentia's published order, so a score means what
// its label says; `class_order: original` reproduces the original's
// labels exactly (and with them its four inverted heads). The set of
// labels, and so of keys, is the same either way; only which index feeds
// which label changes.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_MUSICNN_HEADS_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_MUSICNN_HEADS_H_

#include <nomtag/inference.h>

#include <array>
#include <map>
#include <string>
#include <vector>

namespace nomtag::musicnn {

enum class ClassOrder { kPublished, kOriginal };

// Head name: the file stem up to its first '-' ("mood_happy" for
// mood_happy-msd-musicnn-1.onnx).
std::string HeadName(const std::string& stem);

// The model id nomtag stores a head's outputs under: "musicnn_<stem>", as
// the original's keys nom:{label}_musicnn_{stem} (the host's key is then
// label_musicnn_stem with spaces as '-').
std::string ModelId(const std::string& stem);

// Labels of index 0 and 1 for a known head under the order; empty for a
// head the original's table does not name.
std::vector<std::string> DefaultLabels(const std::string& head,
                                       ClassOrder order);

// The mood heads' outputs with their opposites, for the tiers: both
// labels of happy, sad, party, relaxed and aggressive.
const nomtag_tier_source* TierSources(size_t* count);

}  // namespace nomtag::musicnn

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_MUSICNN_HEADS_H_
