// Calibration percentiles, the tier rule and the tags analysis yields, in
// memory (host/core only).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "core/analysis.h"
#include "core/calibration.h"
#include "core/tiers.h"

namespace nomtag {
namespace {

// numpy's default ("linear") percentile, by brute force on sorted data.
double BruteQuantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

TEST(Calibration, PercentilesMatchBruteForceWithinOneBin) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    std::gamma_distribution<double> ga(1.0 + trial % 5, 1.0),
        gb(2.0 + trial % 3, 1.0);
    size_t n = 50 + 997 * static_cast<size_t>(trial);
    std::vector<double> scores;
    CalibrationBuilder b;
    for (size_t i = 0; i < n; ++i) {
      double x = ga(rng), y = gb(rng);
      double s = x / (x + y);  // a beta-distributed score in [0,1]
      scores.push_back(s);
      b.Add("m/1", "happy", s);
    }
    Calibration c = b.Build();
    const LabelCalibration& l = c.labels.at({"m/1", "happy"});
    // One bin is 1e-4 wide; the histogram answers with a bin centre and
    // the rank rounded to a sample, so allow a bin plus the gap between
    // neighbouring samples.
    auto tolerance = [&](double q) {
      std::vector<double> v = scores;
      std::sort(v.begin(), v.end());
      size_t k = static_cast<size_t>(q * double(n - 1));
      return 1e-4 + (v[std::min(k + 1, n - 1)] - v[k]);
    };
    EXPECT_NEAR(l.p5, BruteQuantile(scores, 0.05), tolerance(0.05))
        << "trial " << trial;
    EXPECT_NEAR(l.p95, BruteQuantile(scores, 0.95), tolerance(0.95))
        << "trial " << trial;
    EXPECT_EQ(l.count, static_cast<int64_t>(n));
  }
}

TEST(Calibration, LabelsAreSeparateAndValuesClip) {
  CalibrationBuilder b;
  for (int i = 0; i <= 100; ++i) {
    b.Add("m/1", "a", i / 100.0);
    b.Add("m/1", "b", 0.5);
  }
  Calibration c = b.Build();
  EXPECT_NEAR(c.labels.at({"m/1", "a"}).p5, 0.05, 1e-4);
  EXPECT_NEAR(c.labels.at({"m/1", "a"}).p95, 0.95, 1e-4);
  double v = -1;
  ASSERT_TRUE(c.Apply("m/1", "a", 0.5, &v));
  EXPECT_NEAR(v, 0.5, 1e-3);
  ASSERT_TRUE(c.Apply("m/1", "a", 0.99, &v));
  EXPECT_EQ(v, 1.0);
  ASSERT_TRUE(c.Apply("m/1", "a", 0.0, &v));
  EXPECT_EQ(v, 0.0);
  // Every score in one bin: nothing to calibrate against.
  EXPECT_FALSE(c.Apply("m/1", "b", 0.5, &v));
  EXPECT_FALSE(c.Apply("m/2", "a", 0.5, &v));
}

TEST(Calibration, CoarseHistogramCountsEveryScoreInItsBin) {
  CalibrationBuilder b;
  for (int i = 0; i < 100; ++i) b.Add("m/1", "a", i / 100.0);  // 0 .. 0.99
  b.Add("m/1", "a", 1.0);  // the top score lands in the last bin
  b.Add("m/1", "a", -3);   // clipped to 0
  std::vector<int64_t> h = b.CoarseHistogram({"m/1", "a"}, 20);
  ASSERT_EQ(h.size(), 20u);
  EXPECT_EQ(h[0], 6);   // 0.00 .. 0.04 and the clipped one
  EXPECT_EQ(h[1], 5);   // 0.05 .. 0.09
  EXPECT_EQ(h[19], 6);  // 0.95 .. 0.99 and 1.0
  int64_t sum = 0;
  for (int64_t n : h) sum += n;
  EXPECT_EQ(sum, 102);
  EXPECT_TRUE(b.CoarseHistogram({"m/1", "b"}, 20).empty());
}

TEST(Calibration, ConvergedMeansBothEndsMovedLessThanOneHundredth) {
  LabelCalibration a{0.10, 0.90, 10}, b{0.105, 0.895, 20}, c{0.12, 0.90, 20};
  EXPECT_TRUE(Converged(a, b));
  EXPECT_FALSE(Converged(a, c));
}

TEST(Tiers, OriginalThresholdsPlaceLabelsInNestedTiers) {
  TierRule rule;
  // p, counter, spread -> tier
  EXPECT_EQ(TierOf({"x", "", 0.9, 0.1, -1}, rule), Tier::kStrict);
  EXPECT_EQ(TierOf({"x", "", 0.78, 0.2, -1}, rule), Tier::kRegular);
  EXPECT_EQ(TierOf({"x", "", 0.65, 0.6, -1}, rule), Tier::kLoose);
  EXPECT_EQ(TierOf({"x", "", 0.55, 0.1, -1}, rule), Tier::kNone);
  // The gap: 0.8 against 0.66 has ratio 1.21 but gap 0.14 < 0.15.
  EXPECT_EQ(TierOf({"x", "", 0.8, 0.66, -1}, rule), Tier::kRegular);
  // The ratio: 0.9 against 0.85 has gap 0.05 (loose) and ratio 1.06.
  EXPECT_EQ(TierOf({"x", "", 0.9, 0.85, -1}, rule), Tier::kLoose);

  Tiers t = AssignTiers({{"strong", "", 0.95, 0.0, -1},
                         {"medium", "", 0.77, 0.1, -1},
                         {"weak", "", 0.62, 0.1, -1}},
                        rule);
  EXPECT_EQ(t.strict, (std::set<std::string>{"strong"}));
  EXPECT_EQ(t.regular, (std::set<std::string>{"medium", "strong"}));
  EXPECT_EQ(t.loose, (std::set<std::string>{"medium", "strong", "weak"}));
}

TEST(Tiers, StabilityCapsLowerTheTier) {
  TierRule rule;
  TierCandidate c{"x", "", 0.95, 0.0, 0.05};
  EXPECT_EQ(TierOf(c, rule), Tier::kStrict);
  c.spread = 0.08;  // not under the strict cap
  EXPECT_EQ(TierOf(c, rule), Tier::kRegular);
  c.spread = 0.15;
  EXPECT_EQ(TierOf(c, rule), Tier::kLoose);
  c.spread = 0.25;  // too unstable for any tier
  EXPECT_EQ(TierOf(c, rule), Tier::kNone);
  c.spread = -1;  // unknown: no cap
  EXPECT_EQ(TierOf(c, rule), Tier::kStrict);
}

TEST(Tiers, OppositesInTheSameTierCancel) {
  // A rule loose enough that a label and its opposite can both pass.
  TierRule rule;
  rule.loose = {0.5, 0.0, -1.0, 1.0};
  Tiers t = AssignTiers({{"happy", "sad", 0.7, 0.0, -1},
                         {"sad", "happy", 0.7, 0.0, -1},
                         {"calm", "", 0.7, 0.0, -1}},
                        rule);
  EXPECT_EQ(t.loose, (std::set<std::string>{"calm"}));
}

TEST(Tiers, ConfiguredNumbersAreUsed) {
  TierRule rule;
  rule.strict.probability = 0.99;
  EXPECT_EQ(TierOf({"x", "", 0.95, 0.0, -1}, rule), Tier::kRegular);
}

TEST(AnalysisTags, ScoresDescriptorsAndTiersOnlyWithCalibration) {
  FileAnalysis a;
  a.descriptors.push_back({"p", "bpm", 120});
  a.heads.push_back(
      {"p", "descriptors-energy/1", "energetic", 0.9, 0.01, true, "calm"});
  a.heads.push_back(
      {"p", "descriptors-energy/1", "calm", 0.1, 0.01, true, "energetic"});
  a.heads.push_back({"p", "other/2", "Not Happy", 0.25, -1, false, ""});
  TierRule rule;
  TagSet plain = AnalysisTags(a, nullptr, rule);
  EXPECT_EQ(plain.at("bpm"), TagValues{"120"});
  EXPECT_EQ(plain.at("energetic_descriptors-energy-1"), TagValues{"0.9"});
  EXPECT_EQ(plain.at("not-happy_other-2"), TagValues{"0.25"});
  EXPECT_EQ(plain.count("mood-loose"), 0u);

  Calibration c;
  c.labels[{"descriptors-energy/1", "energetic"}] = {0.2, 0.8, 10};
  c.labels[{"descriptors-energy/1", "calm"}] = {0.2, 0.8, 10};
  TagSet tiered = AnalysisTags(a, &c, rule);
  EXPECT_EQ(tiered.at("mood-strict"), TagValues{"energetic"});
  EXPECT_EQ(tiered.at("mood-regular"), TagValues{"energetic"});
  EXPECT_EQ(tiered.at("mood-loose"), TagValues{"energetic"});
  for (const auto& [key, values] : tiered) EXPECT_TRUE(IsValidTagKey(key));
}

TEST(AnalysisTags, MergeLetsAnalysisWin) {
  TagSet db{{"bpm", {"90"}}, {"genre", {"jazz"}}};
  TagSet merged = MergeTags(db, {{"bpm", {"120"}}});
  EXPECT_EQ(merged.at("bpm"), TagValues{"120"});
  EXPECT_EQ(merged.at("genre"), TagValues{"jazz"});
}

TEST(AnalysisTags, KeyPartsAreValidKeys) {
  EXPECT_EQ(TagKeyPart("Not Happy"), "not-happy");
  EXPECT_EQ(TagKeyPart("mood_happy-msd-musicnn-1"), "mood_happy-msd-musicnn-1");
  EXPECT_EQ(TagKeyPart("///"), "");
  EXPECT_EQ(TagKeyPart("-x"), "x");
}

}  // namespace
}  // namespace nomtag
