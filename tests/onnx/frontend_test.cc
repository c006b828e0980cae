// The MusiCNN front-end against independent computations: the resampler
// against libsamplerate's src_simple on the whole signal at once, the
// log-mel bands against a brute-force DFT and triangles evaluated from
// MODELS.md's formulas on every bin, framing and patching against counts
// worked out by hand; and the aggregation against hand-computed values.
#include "frontend.h"

#include <gtest/gtest.h>
#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "aggregation.h"

namespace {

using namespace nomtag::musicnn;

std::vector<float> Noise(size_t n, unsigned seed, float amplitude = 0.5f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-amplitude, amplitude);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> SrcSimple(const std::vector<float>& in, uint32_t rate) {
  double ratio = static_cast<double>(16000.0f / static_cast<float>(rate));
  std::vector<float> out(static_cast<size_t>(in.size() * ratio) + 16);
  SRC_DATA d{};
  d.data_in = in.data();
  d.input_frames = static_cast<long>(in.size());
  d.data_out = out.data();
  d.output_frames = static_cast<long>(out.size());
  d.src_ratio = ratio;
  d.end_of_input = 1;
  EXPECT_EQ(src_simple(&d, SRC_LINEAR, 1), 0);
  out.resize(d.output_frames_gen);
  return out;
}

std::vector<float> Streamed(const std::vector<float>& in, uint32_t rate,
                            size_t block) {
  Resampler r(rate);
  std::vector<float> out;
  for (size_t k = 0; k < in.size(); k += block)
    r.Feed(in.data() + k, std::min(block, in.size() - k), &out);
  r.Finish(&out);
  return out;
}

TEST(MusicnnResampler, MatchesLibsamplerateOnTheWholeSignal) {
  for (uint32_t rate : {48000u, 44100u, 22050u, 8000u}) {
    auto in = Noise(rate * 3 + 777, rate);
    auto want = SrcSimple(in, rate);
    // Whatever block sizes the decoder hands over.
    for (size_t block : {1000u, 4096u, 100000u}) {
      auto got = Streamed(in, rate, block);
      ASSERT_EQ(got.size(), want.size()) << rate << " Hz, blocks " << block;
      for (size_t k = 0; k < got.size(); ++k)
        ASSERT_NEAR(got[k], want[k], 1e-6) << rate << " Hz [" << k << "]";
    }
  }
}

// MODELS.md: 32 s at 48 kHz gives 512,001 samples (ceil(len*ratio), with
// a one-sample delay: the first output is the first input).
TEST(MusicnnResampler, LengthAndDelayAsTheOriginal) {
  auto in = Noise(48000 * 32, 3);
  auto out = Streamed(in, 48000, 4096);
  EXPECT_EQ(out.size(), 512001u);
  EXPECT_FLOAT_EQ(out[0], in[0]);
}

// Brute force: DFT by its definition, every bin through the triangle
// formula (no bin ranges), all in double.
std::vector<double> BruteLogMel(const float* frame) {
  auto hz2mel = [](double f) {
    return f < 1000 ? 3 * f / 200
                    : 15 + std::log(f / 1000) / (std::log(6.4) / 27);
  };
  auto mel2hz = [](double m) {
    return m < 15 ? 200 * m / 3
                  : 1000 * std::exp((m - 15) * std::log(6.4) / 27);
  };
  std::vector<double> edges(98);
  float inc = static_cast<float>((hz2mel(8000) - hz2mel(0)) / 97), m = 0;
  for (int i = 0; i < 98; ++i, m += inc)
    edges[i] = static_cast<float>(mel2hz(m));
  std::vector<double> power(257);
  for (int k = 0; k < 257; ++k) {
    double re = 0, im = 0;
    for (int n = 0; n < 512; ++n) {
      double w = 0.5 - 0.5 * std::cos(2 * M_PI * n / 511);
      double x = static_cast<float>(w) * frame[n];
      re += x * std::cos(2 * M_PI * k * n / 512);
      im -= x * std::sin(2 * M_PI * k * n / 512);
    }
    power[k] = re * re + im * im;
  }
  std::vector<double> out(96);
  for (int i = 0; i < 96; ++i) {
    double sum = 0;
    for (int k = 0; k < 257; ++k) {
      double f = k * 31.25, t = 0;
      if (f >= edges[i] && f < edges[i + 1])
        t = (f - edges[i]) / (edges[i + 1] - edges[i]);
      else if (f >= edges[i + 1] && f < edges[i + 2])
        t = (edges[i + 2] - f) / (edges[i + 2] - edges[i + 1]);
      sum += power[k] * t * 2 / (edges[i + 2] - edges[i]);
    }
    out[i] = std::log10(1 + 1e4 * sum);
  }
  return out;
}

TEST(MusicnnFrontEnd, LogMelMatchesBruteForce) {
  for (unsigned seed : {1u, 2u}) {
    auto frame = Noise(512, seed);
    float got[96];
    LogMel(frame.data(), got);
    auto want = BruteLogMel(frame.data());
    for (int i = 0; i < 96; ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << i;
  }
  // A 1 kHz sine: the loudest band is the one whose triangle peaks nearest.
  std::vector<float> sine(512);
  for (int n = 0; n < 512; ++n) sine[n] = std::sin(2 * M_PI * 1000 * n / 16000);
  float mel[96];
  LogMel(sine.data(), mel);
  const auto& edges = MelBank::Get().edges_hz;
  int loudest = std::max_element(mel, mel + 96) - mel;
  EXPECT_LT(std::abs(edges[loudest + 1] - 1000), 60) << loudest;
}

TEST(MusicnnFrontEnd, FramesFromSampleZeroAndPatchesOf187Hop128) {
  // 44.1 kHz stereo: mono is 0.5*(L+R), then libsamplerate, then frames
  // every 256 samples from sample 0, each as the brute force computes it.
  const uint32_t rate = 44100;
  auto left = Noise(rate * 2, 7), right = Noise(rate * 2, 8);
  std::vector<float> interleaved, mono;
  for (size_t k = 0; k < left.size(); ++k) {
    interleaved.push_back(left[k]);
    interleaved.push_back(right[k]);
    mono.push_back(0.5f * (left[k] + right[k]));
  }
  FrontEnd fe(rate, 2);
  for (size_t k = 0; k < left.size(); k += 3000)
    fe.Feed(interleaved.data() + 2 * k,
            std::min<size_t>(3000, left.size() - k));
  fe.Finish();
  auto audio = SrcSimple(mono, rate);
  const int64_t frames = (static_cast<int64_t>(audio.size()) - 512) / 256 + 1;
  ASSERT_EQ(fe.frames(), frames);
  for (int64_t f : {int64_t{0}, int64_t{1}, frames / 2, frames - 1}) {
    auto want = BruteLogMel(audio.data() + 256 * f);
    for (int i = 0; i < 96; ++i)
      ASSERT_NEAR(fe.mel()[f * 96 + i], want[i], 2e-5) << "frame " << f;
  }
  // 2 s: 124 frames, no whole patch; patches appear at 187 frames.
  EXPECT_EQ(fe.patches(), 0);
}

TEST(MusicnnFrontEnd, PatchCountAndContent) {
  FrontEnd fe(16000, 1);
  // 60 s at 16 kHz: the original's minimum; 3749 frames, 28 patches.
  auto x = Noise(16000 * 60, 9);
  fe.Feed(x.data(), x.size());
  fe.Finish();
  EXPECT_EQ(fe.patches(), (fe.frames() - 187) / 128 + 1);
  EXPECT_EQ(fe.patches(), 28);
  std::vector<float> patch;
  fe.AppendPatch(2, &patch);
  ASSERT_EQ(patch.size(), 187u * 96);
  EXPECT_EQ(patch[0], fe.mel()[2 * 128 * 96]);
  EXPECT_EQ(patch.back(), fe.mel()[(2 * 128 + 186) * 96 + 95]);
}

TEST(MusicnnFrontEnd, MoreThanTwoChannelsAreRefused) {
  EXPECT_THROW(FrontEnd(48000, 6), std::runtime_error);
}

TEST(MusicnnAggregation, TrimmedMeanCutsATenthFromEachEnd) {
  // One column of 20: 2 cut from each end (the outliers), mean of 16.
  std::vector<float> rows;
  for (int k = 0; k < 16; ++k) rows.push_back(0.5f + 0.01f * k);
  rows.insert(rows.end(), {-100.f, -50.f, 50.f, 100.f});
  auto p = TrimmedMean(rows.data(), 20, 1);
  EXPECT_NEAR(p.value[0], 0.575, 1e-6);
  double mean = 0, var = 0;
  for (float v : rows) mean += v / 20.0;
  for (float v : rows) var += (v - mean) * (v - mean) / 20.0;
  EXPECT_NEAR(p.spread[0], std::sqrt(var), 1e-6);
}

TEST(MusicnnAggregation, NaNsDroppedPlainMeanUnderTenOneValueNoSpread) {
  const float nan = std::nanf("");
  std::vector<float> rows = {1, 10, nan, 20, 2, nan, 3, 30, 4, 40};  // [5,2]
  auto p = TrimmedMean(rows.data(), 5, 2);
  EXPECT_NEAR(p.value[0], (1 + 2 + 3 + 4) / 4.0, 1e-9);
  EXPECT_NEAR(p.value[1], (10 + 20 + 30 + 40) / 4.0, 1e-9);
  auto one = TrimmedMean(rows.data(), 1, 2);
  EXPECT_EQ(one.spread[0], -1);
}

}  // namespace
