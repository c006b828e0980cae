// FrontEnd: decoded audio to MusiCNN's log-mel patches, exactly as the
// original system computes them (docs: MODELS.md section 2):
//   mono 0.5*(L+R) in float; libsamplerate SRC_LINEAR to 16 kHz, fed 4096
//   frames at a time at ratio (double)(float(16000)/float(rate)); frames of
//   512 samples, hop 256, from sample 0, whole frames only; symmetric Hann
//   window w[i] = 0.5 - 0.5*cos(2*pi*i/511), not normalised; power of the
//   512-point FFT (257 bins); 96 Slaney mel bands 0-8000 Hz with unit_tri
//   triangles; log10(1 + 10^4 * band); patches of 187 frames, hop 128,
//   the incomplete tail dropped.
//
// Fed in blocks, so a long track never needs its samples in memory at
// once: only the 96 values per frame are kept (5.7 MB for 4 minutes).
// Thread contract: one object per track, one thread at a time.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_FRONTEND_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_FRONTEND_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

typedef struct SRC_STATE_tag SRC_STATE;

namespace nomtag::musicnn {

constexpr int kSampleRate = 16000;
constexpr int kFrameSize = 512, kHop = 256, kBins = kFrameSize / 2 + 1;
constexpr int kBands = 96;
constexpr int kPatchFrames = 187, kPatchHop = 128;

// The resampler alone (exposed for its test against libsamplerate).
class Resampler {
 public:
  // Throws std::runtime_error if libsamplerate refuses the rate.
  explicit Resampler(uint32_t input_rate);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Appends the 16 kHz samples made from `mono` to *out.
  void Feed(const float* mono, size_t count, std::vector<float>* out);
  // Flushes: end of input.
  void Finish(std::vector<float>* out);
  double ratio() const { return ratio_; }

 private:
  void Process(bool end, std::vector<float>* out);
  SRC_STATE* state_ = nullptr;
  double ratio_;
  std::vector<float> pending_;  // input not yet handed to libsamplerate
};

// The mel filter bank: 96 triangles over the 257 power bins.
struct MelBank {
  std::array<float, kBands + 2> edges_hz;  // f[0..97]
  struct Band {
    int first_bin;
    std::vector<float> weights;  // bins first_bin, first_bin+1, ...
  };
  std::array<Band, kBands> bands;
  static const MelBank& Get();
};

// One 512-sample frame to 96 log-mel values.
void LogMel(const float* frame, float* out);

class FrontEnd {
 public:
  // Throws std::runtime_error for channel counts other than 1 or 2 (the
  // original refuses them) or a rate libsamplerate refuses.
  FrontEnd(uint32_t sample_rate, uint32_t channels);

  // Interleaved float frames.
  void Feed(const float* samples, uint64_t frames);
  // End of input: flushes the resampler and frames what is left.
  void Finish();

  int64_t frames() const { return static_cast<int64_t>(mel_.size()) / kBands; }
  int64_t patches() const;
  // Patch k as [187, 96] values, appended to *out.
  void AppendPatch(int64_t k, std::vector<float>* out) const;
  const std::vector<float>& mel() const { return mel_; }  // [frames, 96]

 private:
  void Frame();
  uint32_t channels_;
  Resampler resampler_;
  std::vector<float> mono_, audio_;  // audio_: 16 kHz samples not yet framed
  size_t consumed_ = 0;              // of audio_
  std::vector<float> mel_;
};

}  // namespace nomtag::musicnn

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_FRONTEND_H_
