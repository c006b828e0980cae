#include "core/calibration.h"

#include <algorithm>
#include <cmath>

namespace nomtag {

bool Calibration::Apply(const std::string& model, const std::string& label,
                        double raw, double* out) const {
  auto it = labels.find({model, label});
  if (it == labels.end()) return false;
  const LabelCalibration& c = it->second;
  double width = c.p95 - c.p5;
  // A label whose scores all sit in one bin tells nothing about a file
  // relative to the others.
  if (!(width > 0)) return false;
  *out = std::clamp((raw - c.p5) / width, 0.0, 1.0);
  return true;
}

void CalibrationBuilder::Add(const std::string& model, const std::string& label,
                             double score) {
  if (std::isnan(score)) return;
  score = std::clamp(score, 0.0, 1.0);
  int bin = std::min(kBins - 1, static_cast<int>(score * kBins));
  Histogram& h = histograms_[{model, label}];
  ++h.bins[bin];
  ++h.total;
}

double HistogramQuantile(const std::map<int, int64_t>& bins, int64_t total,
                         int bin_count, double q) {
  if (total <= 0) return 0;
  // The 0-based rank of the value, rounded to the nearest sample.
  auto rank = static_cast<int64_t>(std::llround(q * double(total - 1)));
  int64_t seen = 0;
  for (const auto& [bin, count] : bins) {
    seen += count;
    if (seen > rank) return (bin + 0.5) / bin_count;
  }
  return (bins.rbegin()->first + 0.5) / bin_count;
}

Calibration CalibrationBuilder::Build() const {
  Calibration out;
  for (const auto& [key, h] : histograms_) {
    LabelCalibration c;
    c.p5 = HistogramQuantile(h.bins, h.total, kBins, 0.05);
    c.p95 = HistogramQuantile(h.bins, h.total, kBins, 0.95);
    c.count = h.total;
    out.labels.emplace(key, c);
  }
  return out;
}

std::vector<int64_t> CalibrationBuilder::CoarseHistogram(
    const CalibrationKey& key, int bins) const {
  auto it = histograms_.find(key);
  if (it == histograms_.end() || bins < 1) return {};
  std::vector<int64_t> out(bins, 0);
  for (const auto& [bin, count] : it->second.bins)
    out[static_cast<size_t>(int64_t{bin} * bins / kBins)] += count;
  return out;
}

bool Converged(const LabelCalibration& before, const LabelCalibration& now) {
  return std::abs(before.p5 - now.p5) < 0.01 &&
         std::abs(before.p95 - now.p95) < 0.01;
}

}  // namespace nomtag
