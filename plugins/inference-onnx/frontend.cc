#include "frontend.h"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <stdexcept>
#include <string>

namespace nomtag::musicnn {
namespace {

constexpr size_t kBlock = 4096;  // frames per src_process call, as Essentia

// Slaney's mel scale, as Essentia's.
double HzToMel(double hz) {
  return hz < 1000 ? 3.0 * hz / 200.0
                   : 15.0 + std::log(hz / 1000.0) / (std::log(6.4) / 27.0);
}
double MelToHz(double mel) {
  return mel < 15 ? 200.0 * mel / 3.0
                  : 1000.0 * std::exp((mel - 15.0) * (std::log(6.4) / 27.0));
}

// In-place radix-2 FFT of 512 complex values (double).
void Fft512(std::complex<double>* x) {
  constexpr int n = kFrameSize;
  static const auto twiddles = [] {
    std::array<std::complex<double>, n / 2> t;
    for (int k = 0; k < n / 2; ++k) t[k] = std::polar(1.0, -2.0 * M_PI * k / n);
    return t;
  }();
  for (int i = 1, j = 0; i < n; ++i) {
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(x[i], x[j]);
  }
  for (int len = 2; len <= n; len <<= 1)
    for (int i = 0; i < n; i += len)
      for (int k = 0; k < len / 2; ++k) {
        std::complex<double> w = twiddles[k * (n / len)];
        std::complex<double> u = x[i + k], v = x[i + k + len / 2] * w;
        x[i + k] = u + v;
        x[i + k + len / 2] = u - v;
      }
}

const std::array<float, kFrameSize>& Window() {
  static const auto w = [] {
    std::array<float, kFrameSize> w;
    for (int i = 0; i < kFrameSize; ++i)
      w[i] = static_cast<float>(
          0.5 - 0.5 * std::cos(2.0 * M_PI * i / (kFrameSize - 1)));
    return w;
  }();
  return w;
}

}  // namespace

Resampler::Resampler(uint32_t input_rate)
    : ratio_(static_cast<double>(static_cast<float>(kSampleRate) /
                                 static_cast<float>(input_rate))) {
  int error = 0;
  state_ = src_new(SRC_LINEAR, 1, &error);
  if (!state_ || src_is_valid_ratio(ratio_) == 0)
    throw std::runtime_error("libsamplerate refuses " +
                             std::to_string(input_rate) + " Hz");
}

Resampler::~Resampler() { src_delete(state_); }

void Resampler::Process(bool end, std::vector<float>* out) {
  SRC_DATA d{};
  size_t used = 0;
  std::vector<float> buffer(static_cast<size_t>(kBlock * ratio_) + 64);
  // Blocks of kBlock input frames; at the end, the rest with end_of_input,
  // until the converter has nothing more to give.
  while (pending_.size() - used >= kBlock || end) {
    size_t n = std::min(kBlock, pending_.size() - used);
    d.data_in = pending_.data() + used;
    d.input_frames = static_cast<long>(n);
    d.data_out = buffer.data();
    d.output_frames = static_cast<long>(buffer.size());
    d.src_ratio = ratio_;
    d.end_of_input = end && n == pending_.size() - used ? 1 : 0;
    int error = src_process(state_, &d);
    if (error) throw std::runtime_error(src_strerror(error));
    used += d.input_frames_used;
    out->insert(out->end(), buffer.data(), buffer.data() + d.output_frames_gen);
    if (end && d.input_frames_used == 0 && d.output_frames_gen == 0) break;
  }
  pending_.erase(pending_.begin(), pending_.begin() + used);
}

void Resampler::Feed(const float* mono, size_t count, std::vector<float>* out) {
  pending_.insert(pending_.end(), mono, mono + count);
  if (pending_.size() >= kBlock) Process(false, out);
}

void Resampler::Finish(std::vector<float>* out) { Process(true, out); }

const MelBank& MelBank::Get() {
  static const MelBank bank = [] {
    MelBank b;
    // The edges: equal steps in mel, the step accumulated in float.
    const float lo = static_cast<float>(HzToMel(0.0));
    const float hi = static_cast<float>(HzToMel(kSampleRate / 2.0));
    const float inc = (hi - lo) / (kBands + 1);
    float mel = lo;
    for (int i = 0; i < kBands + 2; ++i, mel += inc)
      b.edges_hz[i] = static_cast<float>(MelToHz(mel));
    const float scale = (kSampleRate / 2.0f) / (kBins - 1);  // 31.25 Hz
    for (int i = 0; i < kBands; ++i) {
      const float f0 = b.edges_hz[i], f1 = b.edges_hz[i + 1],
                  f2 = b.edges_hz[i + 2];
      const int first = static_cast<int>(std::ceil(f0 / scale));
      const int last =
          std::min(static_cast<int>(std::floor(f2 / scale)), kBins - 1);
      const float norm = (f2 - f0) / 2;  // unit_tri: each triangle's area 1
      b.bands[i].first_bin = first;
      for (int j = first; j <= last; ++j) {
        float f = j * scale, t = 0;
        if (f >= f0 && f < f1)
          t = (f - f0) / (f1 - f0);
        else if (f >= f1 && f < f2)
          t = (f2 - f) / (f2 - f1);
        b.bands[i].weights.push_back(t / norm);
      }
    }
    return b;
  }();
  return bank;
}

void LogMel(const float* frame, float* out) {
  const auto& w = Window();
  std::array<std::complex<double>, kFrameSize> x;
  for (int i = 0; i < kFrameSize; ++i) x[i] = frame[i] * w[i];
  Fft512(x.data());
  std::array<double, kBins> power;
  for (int k = 0; k < kBins; ++k) power[k] = std::norm(x[k]);
  const MelBank& bank = MelBank::Get();
  for (int i = 0; i < kBands; ++i) {
    const auto& band = bank.bands[i];
    double sum = 0;
    for (size_t j = 0; j < band.weights.size(); ++j)
      sum += power[band.first_bin + j] * band.weights[j];
    out[i] = static_cast<float>(std::log10(10000.0 * sum + 1.0));
  }
}

FrontEnd::FrontEnd(uint32_t sample_rate, uint32_t channels)
    : channels_(channels), resampler_(sample_rate) {
  if (channels != 1 && channels != 2)
    throw std::runtime_error(std::to_string(channels) +
                             " channels: only mono and stereo are analysed");
}

void FrontEnd::Feed(const float* samples, uint64_t frames) {
  mono_.resize(frames);
  if (channels_ == 1) {
    std::copy_n(samples, frames, mono_.data());
  } else {
    for (uint64_t k = 0; k < frames; ++k)
      mono_[k] = 0.5f * (samples[2 * k] + samples[2 * k + 1]);
  }
  resampler_.Feed(mono_.data(), frames, &audio_);
  Frame();
}

void FrontEnd::Finish() {
  resampler_.Finish(&audio_);
  Frame();
}

void FrontEnd::Frame() {
  while (audio_.size() - consumed_ >= static_cast<size_t>(kFrameSize)) {
    mel_.resize(mel_.size() + kBands);
    LogMel(audio_.data() + consumed_, mel_.data() + mel_.size() - kBands);
    consumed_ += kHop;
  }
  // Drop what no later frame needs.
  if (consumed_ > (1u << 16)) {
    audio_.erase(audio_.begin(), audio_.begin() + consumed_);
    consumed_ = 0;
  }
}

int64_t FrontEnd::patches() const {
  return frames() < kPatchFrames ? 0
                                 : (frames() - kPatchFrames) / kPatchHop + 1;
}

void FrontEnd::AppendPatch(int64_t k, std::vector<float>* out) const {
  const float* first = mel_.data() + k * kPatchHop * kBands;
  out->insert(out->end(), first, first + kPatchFrames * kBands);
}

}  // namespace nomtag::musicnn
