#include "aggregation.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nomtag::musicnn {

Pooled TrimmedMean(const float* rows, int64_t n, int64_t cols) {
  Pooled out;
  out.value.assign(cols, std::numeric_limits<double>::quiet_NaN());
  out.spread.assign(cols, -1.0);
  std::vector<double> column;
  for (int64_t c = 0; c < cols; ++c) {
    column.clear();
    for (int64_t r = 0; r < n; ++r) {
      float v = rows[r * cols + c];
      if (!std::isnan(v)) column.push_back(v);
    }
    const size_t m = column.size();
    if (m == 0) continue;
    std::sort(column.begin(), column.end());
    const size_t cut = static_cast<size_t>(std::floor(0.1 * m));
    double sum = 0;
    for (size_t k = cut; k < m - cut; ++k) sum += column[k];
    out.value[c] = sum / static_cast<double>(m - 2 * cut);
    if (m > 1) {
      double mean = 0, var = 0;
      for (double v : column) mean += v;
      mean /= m;
      for (double v : column) var += (v - mean) * (v - mean);
      out.spread[c] = std::sqrt(var / m);
    }
  }
  return out;
}

}  // namespace nomtag::musicnn
