// The calibration document: how a computed calibration is stored in the
// database, exported and imported, and hashed (SPEC section 4).
//
//   {"format": "nomtag-calibration/1",
//    "labels": [{"model": "descriptors-energy/1", "label": "energetic",
//                "p5": 0.12, "p95": 0.91, "n": 480}, ...]}
//
// Labels are kept in (model, label) order; the canonical form and the hash
// are importing/calibration_document's. Shared by the CLI (`calibrate`,
// `calibration import`, `reconcile`) and the server, so that both read and
// write one document the same way. Identical data gives an identical hash;
// any change, another.
#ifndef NOMTAG_ANALYSIS_CALIBRATION_DOC_H_
#define NOMTAG_ANALYSIS_CALIBRATION_DOC_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/calibration.h"
#include "core/tag_set.h"
#include "core/tiers.h"
#include "importing/calibration_document.h"
#include "store/storage_database.h"

namespace nomtag {

nlohmann::json CalibrationToJson(const Calibration& calibration);

// A document of another shape (an older import) holds no labels: an empty
// calibration, not an error. A document of our format with a bad entry is
// InvalidArgument.
Result<Calibration> CalibrationFromJson(const nlohmann::json& doc);

// A document to import (text): parsed, hashed, and checked as a
// calibration (p5 <= p95 within [0,1] for each of our labels).
// InvalidArgument naming the problem otherwise.
Result<CalibrationDocument> CheckCalibrationText(const std::string& text);

// The active calibration (empty when none or of another shape).
Result<Calibration> ActiveCalibration(StorageDatabase& db);

// The tags each file's analysis yields under the active calibration and
// rule, for ReconcileOptions::analysis_tags. REQUIRES: db outlives the
// function returned.
Result<std::function<Result<TagSet>(int64_t)>> AnalysisTagSource(
    StorageDatabase& db, const TierRule& rule);

}  // namespace nomtag

#endif  // NOMTAG_ANALYSIS_CALIBRATION_DOC_H_
