// Generating the calibration (SPEC section 4) from the stored raw scores,
// and describing the active one per head: what `nomtag calibrate` and the
// server's calibration job and view share, so both compute and answer
// alike.
//
// A head (model, label) has converged when its p5 and p95 moved less than
// 0.01: for a generation, since the calibration it replaced; for a view,
// between the active calibration and the one the scores stored now give.
#ifndef NOMTAG_ANALYSIS_CALIBRATE_H_
#define NOMTAG_ANALYSIS_CALIBRATE_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/calibration.h"
#include "core/status.h"
#include "store/storage_database.h"

namespace nomtag {

// Bins of the histograms a view carries (each 0.05 wide).
inline constexpr int kViewHistogramBins = 20;

struct HeadCalibration {
  std::string model, label;
  double p5 = 0, p95 = 1;
  int64_t n = 0;
  bool converged = false;
  std::vector<int64_t> histogram;  // views only: kViewHistogramBins counts
};

struct CalibrateReport {
  std::string hash;      // of the calibration now active
  bool changed = false;  // false: identical to the active one, nothing done
  int64_t scores = 0;    // raw scores read
  std::vector<HeadCalibration> heads;
};

// Computes the calibration from the raw scores of library_id's present
// files (0: of every library) and makes it the active one when it differs.
// NotFound when there are no scores to compute from.
Result<CalibrateReport> GenerateCalibration(StorageDatabase& db,
                                            int64_t library_id);

// The active calibration per head (p5/p95/n as stored) with a histogram of
// the raw scores stored now (every library), and heads that have scores
// but no calibration yet (p5/p95 from the scores, converged false).
// Changes nothing.
Result<CalibrateReport> DescribeCalibration(StorageDatabase& db);

// As the CLI's --json and the server answer it.
nlohmann::json ToJson(const CalibrateReport& report);

}  // namespace nomtag

#endif  // NOMTAG_ANALYSIS_CALIBRATE_H_
