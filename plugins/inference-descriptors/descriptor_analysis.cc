#include "descriptor_analysis.h"

#include <aubio/aubio.h>
#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nomtag::descriptors {
namespace {

constexpr uint32_t kWindow = 1024;  // FFT window
constexpr uint32_t kHop = 512;
// The tempo tracker runs on the mono mix at half the rate (pairs of
// samples averaged): its onset function needs no content above a quarter
// of the file's rate, and half the samples halve its phase vocoder's
// work. Window and hop in time stay those of a 1024/512 tracker at the
// full rate.
constexpr uint32_t kTempoWindow = kWindow / 2;
constexpr uint32_t kTempoHop = kHop / 2;
constexpr double kBrightCutHz = 1500;
constexpr double kSegmentS = 3.0;   // segments for the heads' spread
constexpr double kRmsBlockS = 0.5;  // blocks for the dynamic range
constexpr double kSilentDb = -70;

double Db(double power) { return 10 * std::log10(std::max(power, 1e-20)); }

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  double pos = q * double(v.size() - 1);
  size_t lo = static_cast<size_t>(pos);
  size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

double StdDev(const std::vector<double>& v) {
  if (v.size() < 2) return -1;  // unknown
  double mean = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / double(v.size()));
}

double EnergeticScore(double lufs, double bpm) {
  return Logistic((lufs + 18.0) / 4.0 + (bpm - 110.0) / 40.0);
}
double BrightScore(double centroid_hz) {
  return Logistic(2.5 * std::log2(std::max(centroid_hz, 1.0) / 2000.0));
}
double FastScore(double bpm) { return Logistic((bpm - 110.0) / 12.0); }

}  // namespace

double Logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

struct DescriptorAnalysis::State {
  uint32_t rate, channels;
  ebur128_state* r128 = nullptr;
  aubio_tempo_t* tempo = nullptr;
  // The spectrum is our own Hann-windowed FFT of the last kWindow samples
  // rather than an aubio_pvoc: the phase vocoder also computes every
  // bin's phase (an atan2 each), which nothing here reads, and that was a
  // seventh of the plugin's time. The magnitudes are the same.
  aubio_fft_t* fft = nullptr;
  fvec_t* window = nullptr;    // Hann ("hanningz", as aubio_pvoc uses)
  fvec_t* frame = nullptr;     // the last kWindow mono samples
  fvec_t* weighted = nullptr;  // frame × window
  fvec_t* complex = nullptr;   // the FFT's packed complex output
  fvec_t* hop_in = nullptr;
  fvec_t* tempo_in = nullptr;  // half-rate mono for the tempo tracker
  fvec_t* tempo_out = nullptr;
  cvec_t* spectrum = nullptr;
  uint32_t hop_fill = 0;
  uint32_t tempo_fill = 0;
  float half_first = 0;  // the first sample of the pair being averaged
  bool half_odd = false;
  uint32_t bright_bin = 0;

  // Whole-track sums.
  double centroid_weighted = 0, magnitude_sum = 0;
  double bright_power = 0, total_power = 0;
  double square_sum = 0;
  uint64_t mono_frames = 0;

  // The current 0.5 s RMS block and 3 s segment.
  double block_sq = 0;
  uint64_t block_n = 0, block_frames;
  std::vector<double> block_db;
  double seg_centroid_w = 0, seg_mag = 0;
  uint64_t seg_n = 0, seg_frames;
  std::vector<double> seg_bright, seg_energetic, seg_fast;

  ~State() {
    if (r128) ebur128_destroy(&r128);
    if (tempo) del_aubio_tempo(tempo);
    if (fft) del_aubio_fft(fft);
    if (window) del_fvec(window);
    if (frame) del_fvec(frame);
    if (weighted) del_fvec(weighted);
    if (complex) del_fvec(complex);
    if (hop_in) del_fvec(hop_in);
    if (tempo_in) del_fvec(tempo_in);
    if (tempo_out) del_fvec(tempo_out);
    if (spectrum) del_cvec(spectrum);
  }

  void Hop() {
    std::copy(frame->data + kHop, frame->data + kWindow, frame->data);
    std::copy(hop_in->data, hop_in->data + kHop,
              frame->data + (kWindow - kHop));
    for (uint32_t i = 0; i < kWindow; ++i)
      weighted->data[i] = frame->data[i] * window->data[i];
    aubio_fft_do_complex(fft, weighted, complex);
    aubio_fft_get_norm(complex, spectrum);
    double w = 0, m = 0, bright = 0, total = 0;
    for (uint32_t k = 0; k < spectrum->length; ++k) {
      double mag = spectrum->norm[k];
      double hz = double(k) * rate / kWindow;
      w += hz * mag;
      m += mag;
      double p = mag * mag;
      total += p;
      if (k >= bright_bin) bright += p;
    }
    centroid_weighted += w;
    magnitude_sum += m;
    bright_power += bright;
    total_power += total;
    seg_centroid_w += w;
    seg_mag += m;
  }

  void EndSegment() {
    if (seg_mag > 0)
      seg_bright.push_back(BrightScore(seg_centroid_w / seg_mag));
    double st = 0;
    double bpm = aubio_tempo_get_bpm(tempo);
    if (ebur128_loudness_shortterm(r128, &st) == EBUR128_SUCCESS &&
        std::isfinite(st))
      seg_energetic.push_back(EnergeticScore(st, bpm));
    // The beat tracker needs a few seconds before its estimate means much.
    if (bpm > 0 && mono_frames > 2 * seg_frames)
      seg_fast.push_back(FastScore(bpm));
    seg_centroid_w = seg_mag = 0;
    seg_n = 0;
  }
};

DescriptorAnalysis::DescriptorAnalysis(uint32_t sample_rate, uint32_t channels)
    : s_(std::make_unique<State>()) {
  if (sample_rate < 8000 || channels == 0)
    throw std::runtime_error("unsupported audio format");
  State& s = *s_;
  s.rate = sample_rate;
  s.channels = channels;
  s.r128 = ebur128_init(channels, sample_rate,
                        EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_S);
  // An odd rate's half is rounded down: a tempo error under 0.01%.
  s.tempo =
      new_aubio_tempo("default", kTempoWindow, kTempoHop, sample_rate / 2);
  s.fft = new_aubio_fft(kWindow);
  s.window = new_aubio_window(const_cast<char*>("hanningz"), kWindow);
  s.frame = new_fvec(kWindow);
  s.weighted = new_fvec(kWindow);
  s.complex = new_fvec(kWindow);
  s.hop_in = new_fvec(kHop);
  s.tempo_in = new_fvec(kTempoHop);
  s.tempo_out = new_fvec(1);
  s.spectrum = new_cvec(kWindow);
  if (!s.r128 || !s.tempo || !s.fft || !s.window || !s.frame || !s.weighted ||
      !s.complex || !s.hop_in || !s.tempo_in || !s.tempo_out || !s.spectrum)
    throw std::runtime_error("cannot set up the analysers");
  s.bright_bin = static_cast<uint32_t>(
      std::ceil(kBrightCutHz * kWindow / double(sample_rate)));
  s.block_frames = static_cast<uint64_t>(kRmsBlockS * sample_rate);
  s.seg_frames = static_cast<uint64_t>(kSegmentS * sample_rate);
}

DescriptorAnalysis::~DescriptorAnalysis() = default;

void DescriptorAnalysis::Feed(const float* samples, uint64_t frames) {
  State& s = *s_;
  ebur128_add_frames_float(s.r128, samples, frames);
  for (uint64_t i = 0; i < frames; ++i) {
    const float* f = samples + i * s.channels;
    float mono = s.channels == 2 ? 0.5f * (f[0] + f[1]) : f[0];
    if (s.channels > 2) {
      float sum = 0;
      for (uint32_t c = 0; c < s.channels; ++c) sum += f[c];
      mono = sum / float(s.channels);
    }
    s.square_sum += double(mono) * mono;
    s.block_sq += double(mono) * mono;
    ++s.mono_frames;
    if (++s.block_n == s.block_frames) {
      double db = Db(s.block_sq / double(s.block_n));
      if (db > kSilentDb) s.block_db.push_back(db);
      s.block_sq = 0;
      s.block_n = 0;
    }
    if (s.half_odd) {
      s.tempo_in->data[s.tempo_fill++] = 0.5f * (s.half_first + mono);
      if (s.tempo_fill == kTempoHop) {
        aubio_tempo_do(s.tempo, s.tempo_in, s.tempo_out);
        s.tempo_fill = 0;
      }
    } else {
      s.half_first = mono;
    }
    s.half_odd = !s.half_odd;
    s.hop_in->data[s.hop_fill++] = mono;
    if (s.hop_fill == kHop) {
      s.Hop();
      s.hop_fill = 0;
    }
    if (++s.seg_n == s.seg_frames) s.EndSegment();
  }
}

Results DescriptorAnalysis::Finish() {
  State& s = *s_;
  Results r;
  r.bpm = aubio_tempo_get_bpm(s.tempo);
  double lufs = -HUGE_VAL, lra = 0;
  if (ebur128_loudness_global(s.r128, &lufs) != EBUR128_SUCCESS ||
      !std::isfinite(lufs))
    lufs = -70;  // silence: below the absolute gate
  if (ebur128_loudness_range(s.r128, &lra) != EBUR128_SUCCESS ||
      !std::isfinite(lra))
    lra = 0;
  r.loudness_lufs = lufs;
  r.loudness_range_lu = lra;
  r.spectral_centroid_hz =
      s.magnitude_sum > 0 ? s.centroid_weighted / s.magnitude_sum : 0;
  r.brightness = s.total_power > 0 ? s.bright_power / s.total_power : 0;
  r.energy_dbfs =
      s.mono_frames ? Db(s.square_sum / double(s.mono_frames)) : Db(0);
  r.dynamic_range_db = s.block_db.size() >= 2 ? Percentile(s.block_db, 0.95) -
                                                    Percentile(s.block_db, 0.10)
                                              : 0;
  r.descriptors = {{"bpm", r.bpm},
                   {"loudness-lufs", r.loudness_lufs},
                   {"loudness-range-lu", r.loudness_range_lu},
                   {"spectral-centroid-hz", r.spectral_centroid_hz},
                   {"brightness", r.brightness},
                   {"energy-dbfs", r.energy_dbfs},
                   {"dynamic-range-db", r.dynamic_range_db}};

  auto pair = [&r](const char* model, const char* yes, const char* no,
                   double score, double spread) {
    r.heads.push_back({model, yes, no, score, spread});
    r.heads.push_back({model, no, yes, 1 - score, spread});
  };
  pair("descriptors-energy/1", "energetic", "calm", EnergeticScore(lufs, r.bpm),
       StdDev(s.seg_energetic));
  pair("descriptors-brightness/1", "bright", "dark",
       BrightScore(r.spectral_centroid_hz), StdDev(s.seg_bright));
  pair("descriptors-tempo/1", "fast", "slow", FastScore(r.bpm),
       StdDev(s.seg_fast));
  return r;
}

}  // namespace nomtag::descriptors
