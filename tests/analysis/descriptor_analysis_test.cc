// The descriptors against synthetic audio with known answers.
#include "descriptor_analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace nomtag::descriptors {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr uint32_t kRate = 44100;

// Feeds in uneven blocks, as the host does.
Results Analyse(const std::vector<float>& samples, uint32_t channels,
                uint32_t rate = kRate) {
  DescriptorAnalysis a(rate, channels);
  uint64_t frames = samples.size() / channels;
  uint64_t at = 0, step = 4097;
  while (at < frames) {
    uint64_t n = std::min<uint64_t>(step, frames - at);
    a.Feed(samples.data() + at * channels, n);
    at += n;
    step = step == 4097 ? 48000 : 4097;
  }
  return a.Finish();
}

std::vector<float> Sine(double hz, double amplitude, double seconds,
                        uint32_t rate = kRate) {
  std::vector<float> out(static_cast<size_t>(seconds * rate));
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<float>(amplitude * std::sin(2 * kPi * hz * i / rate));
  return out;
}

// A click every 60/bpm seconds: 10 ms bursts of a decaying 2 kHz tone.
std::vector<float> Clicks(double bpm, double seconds) {
  std::vector<float> out(static_cast<size_t>(seconds * kRate), 0.f);
  size_t period = static_cast<size_t>(kRate * 60.0 / bpm);
  size_t len = kRate / 100;
  for (size_t start = 0; start + len < out.size(); start += period)
    for (size_t i = 0; i < len; ++i)
      out[start + i] =
          static_cast<float>(0.8 * std::exp(-double(i) / (len / 5.0)) *
                             std::sin(2 * kPi * 2000.0 * double(i) / kRate));
  return out;
}

TEST(Descriptors, ClickTrackAt120BpmIs120Bpm) {
  Results r = Analyse(Clicks(120, 30), 1);
  EXPECT_NEAR(r.bpm, 120, 2);
  Results slow = Analyse(Clicks(80, 30), 1);
  EXPECT_NEAR(slow.bpm, 80, 2);
  // The tempo head follows: 120 reads faster than 80.
  auto fast_score = [](const Results& x) {
    for (const auto& h : x.heads)
      if (h.label == "fast") return h.score;
    return -1.0;
  };
  EXPECT_GT(fast_score(r), 0.6);
  EXPECT_LT(fast_score(slow), 0.2);
}

TEST(Descriptors, SineLoudnessMatchesEbuR128Definition) {
  // A 1 kHz sine of amplitude 0.1 (peak -20 dBFS): mean square 0.005, and
  // BS.1770's K-weighting is +0.691 dB at 1 kHz, cancelled by its -0.691
  // offset: -23.01 LUFS. Mono counts as one front channel.
  Results mono = Analyse(Sine(1000, 0.1, 20), 1);
  EXPECT_NEAR(mono.loudness_lufs, 10 * std::log10(0.005), 0.1);
  EXPECT_NEAR(mono.energy_dbfs, 10 * std::log10(0.005), 0.05);
  EXPECT_NEAR(mono.loudness_range_lu, 0, 0.5);
  EXPECT_NEAR(mono.dynamic_range_db, 0, 0.5);
  // The same sine in both channels sums the channels' powers: +3.01 LU.
  std::vector<float> st;
  for (float s : Sine(1000, 0.1, 20)) {
    st.push_back(s);
    st.push_back(s);
  }
  Results stereo = Analyse(st, 2);
  EXPECT_NEAR(stereo.loudness_lufs, mono.loudness_lufs + 3.01, 0.1);
  // Twenty dB quieter reads twenty LU lower.
  Results quiet = Analyse(Sine(1000, 0.01, 20), 1);
  EXPECT_NEAR(quiet.loudness_lufs, mono.loudness_lufs - 20, 0.1);
}

TEST(Descriptors, CentroidAndBrightnessOfSines) {
  Results low = Analyse(Sine(440, 0.5, 10), 1);
  EXPECT_NEAR(low.spectral_centroid_hz, 440, 60);
  EXPECT_LT(low.brightness, 0.01);
  Results high = Analyse(Sine(6000, 0.5, 10), 1);
  EXPECT_NEAR(high.spectral_centroid_hz, 6000, 150);
  EXPECT_GT(high.brightness, 0.99);
}

TEST(Descriptors, WhiteNoiseHasItsCentroidAtAQuarterOfTheRate) {
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0.f, 0.1f);
  std::vector<float> noise(kRate * 10);
  for (auto& s : noise) s = n(rng);
  Results r = Analyse(noise, 1);
  // Flat spectrum from 0 to rate/2: the mean frequency is rate/4, and the
  // share of power above 1500 Hz is 1 - 1500/(rate/2).
  EXPECT_NEAR(r.spectral_centroid_hz, kRate / 4.0, 300);
  EXPECT_NEAR(r.brightness, 1 - 1500.0 / (kRate / 2.0), 0.02);
  EXPECT_NEAR(r.energy_dbfs, 20 * std::log10(0.1), 0.1);
}

TEST(Descriptors, DynamicRangeOfAlternatingLevels) {
  // 5 s at amplitude 0.5, 5 s at 0.05, three times: 20 dB apart.
  std::vector<float> out;
  for (int rep = 0; rep < 3; ++rep)
    for (double a : {0.5, 0.05}) {
      auto part = Sine(1000, a, 5);
      out.insert(out.end(), part.begin(), part.end());
    }
  Results r = Analyse(out, 1);
  EXPECT_NEAR(r.dynamic_range_db, 20, 0.5);
  EXPECT_GT(r.loudness_range_lu, 10);
}

TEST(Descriptors, HeadsComeInOppositePairsWithSpread) {
  Results r = Analyse(Clicks(120, 20), 1);
  ASSERT_EQ(r.heads.size(), 6u);
  for (size_t i = 0; i < r.heads.size(); i += 2) {
    EXPECT_EQ(r.heads[i].model_id, r.heads[i + 1].model_id);
    EXPECT_EQ(r.heads[i].opposite, r.heads[i + 1].label);
    EXPECT_NEAR(r.heads[i].score + r.heads[i + 1].score, 1.0, 1e-12);
    EXPECT_GE(r.heads[i].spread, 0) << r.heads[i].model_id;
  }
}

}  // namespace
}  // namespace nomtag::descriptors
