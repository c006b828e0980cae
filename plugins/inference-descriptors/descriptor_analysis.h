// DescriptorAnalysis: musical descriptors of one track from its decoded
// audio, fed in blocks (memory stays bounded whatever the length).
//
//   bpm                   tempo (aubio's beat tracker)
//   loudness-lufs         integrated loudness, EBU R128 (libebur128)
//   loudness-range-lu     loudness range, EBU R128 (libebur128)
//   spectral-centroid-hz  magnitude-weighted mean frequency
//   brightness            share of spectral energy above 1500 Hz, 0..1
//   energy-dbfs           RMS level of the mono mix, dB full scale
//   dynamic-range-db      spread of the 0.5 s RMS levels (95th - 10th
//                         percentile, silent blocks left out)
//
// From them, three two-sided heads that feed the mood tiers. They are
// descriptor-derived, not learned: a logistic curve of one or two
// descriptors, with the spread across 3-second segments:
//   descriptors-energy/1      energetic | calm   (loudness and tempo)
//   descriptors-brightness/1  bright | dark      (spectral centroid)
//   descriptors-tempo/1       fast | slow        (tempo)
//
// Thread contract: one object per track, one thread at a time.
#ifndef NOMTAG_PLUGINS_INFERENCE_DESCRIPTORS_DESCRIPTOR_ANALYSIS_H_
#define NOMTAG_PLUGINS_INFERENCE_DESCRIPTORS_DESCRIPTOR_ANALYSIS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nomtag::descriptors {

struct Head {
  std::string model_id, label, opposite;
  double score = 0;
  double spread = -1;
};

struct Results {
  double bpm = 0;
  double loudness_lufs = 0;
  double loudness_range_lu = 0;
  double spectral_centroid_hz = 0;
  double brightness = 0;
  double energy_dbfs = 0;
  double dynamic_range_db = 0;
  std::vector<std::pair<std::string, double>> descriptors;  // all of the above
  std::vector<Head> heads;
};

class DescriptorAnalysis {
 public:
  // Throws std::runtime_error when the libraries refuse the format.
  DescriptorAnalysis(uint32_t sample_rate, uint32_t channels);
  ~DescriptorAnalysis();

  // Interleaved frames.
  void Feed(const float* samples, uint64_t frames);

  // Computes everything from what was fed.
  Results Finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The logistic curve the heads use.
double Logistic(double x);

}  // namespace nomtag::descriptors

#endif  // NOMTAG_PLUGINS_INFERENCE_DESCRIPTORS_DESCRIPTOR_ANALYSIS_H_
