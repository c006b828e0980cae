// From per-patch rows to one value per column, as the original system
// pools its heads' outputs and its track embedding (MODELS.md section 3):
// per column, NaNs dropped, sorted, floor(0.1*n) values cut from each end,
// the mean of the rest; the spread is the standard deviation (ddof 0) of
// the column's values when there are more than one.
#ifndef NOMTAG_PLUGINS_INFERENCE_ONNX_AGGREGATION_H_
#define NOMTAG_PLUGINS_INFERENCE_ONNX_AGGREGATION_H_

#include <cstdint>
#include <vector>

namespace nomtag::musicnn {

struct Pooled {
  std::vector<double> value;   // per column; NaN if the column had none
  std::vector<double> spread;  // per column; -1 when fewer than 2 values
};

// `rows` is [n, cols] row-major. Head scores are clipped to [0, 1] by the
// caller that wants it (the embedding is not).
Pooled TrimmedMean(const float* rows, int64_t n, int64_t cols);

}  // namespace nomtag::musicnn

#endif  // NOMTAG_PLUGINS_INFERENCE_ONNX_AGGREGATION_H_
