// Calibration (SPEC section 4): per (model, label), where the library's raw
// scores lie, so that a score can be read relative to the library.
//
// The original system's rule: the 5th and 95th percentiles of the stored
// raw scores, calibrated value (raw - p5) / (p95 - p5) clipped to [0,1].
// Percentiles come from sparse 10,000-bin histograms over [0,1], so
// memory grows with the number of distinct bins seen, never with the
// library: a percentile is exact to one bin (1e-4).
#ifndef NOMTAG_CORE_CALIBRATION_H_
#define NOMTAG_CORE_CALIBRATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace nomtag {

struct LabelCalibration {
  double p5 = 0;
  double p95 = 1;
  int64_t count = 0;  // scores it was computed from
};

// (model id, label)
using CalibrationKey = std::pair<std::string, std::string>;

struct Calibration {
  std::map<CalibrationKey, LabelCalibration> labels;

  // The calibrated value of a raw score; false when (model, label) has no
  // calibration.
  bool Apply(const std::string& model, const std::string& label, double raw,
             double* out) const;
};

class CalibrationBuilder {
 public:
  static constexpr int kBins = 10000;

  // One raw score (clipped to [0,1]; NaN ignored).
  void Add(const std::string& model, const std::string& label, double score);

  Calibration Build() const;

  // How the scores of one label spread over [0,1] in `bins` equal bins
  // (kBins must be a multiple of bins): what the page draws. Empty when
  // the label has no scores.
  std::vector<int64_t> CoarseHistogram(const CalibrationKey& key,
                                       int bins) const;

 private:
  // Per label: bin -> count, and the total.
  struct Histogram {
    std::map<int, int64_t> bins;
    int64_t total = 0;
  };
  std::map<CalibrationKey, Histogram> histograms_;
};

// The value at quantile q in [0,1] of a sparse histogram (the centre of
// the bin holding rank q*(n-1), numpy's "linear" rank rounded to a bin).
double HistogramQuantile(const std::map<int, int64_t>& bins, int64_t total,
                         int bin_count, double q);

// True when p5 and p95 moved less than 0.01 from `before` to `now` (the
// original system's test that a head's calibration has settled).
bool Converged(const LabelCalibration& before, const LabelCalibration& now);

}  // namespace nomtag

#endif  // NOMTAG_CORE_CALIBRATION_H_
