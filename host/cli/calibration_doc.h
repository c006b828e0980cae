// The calibration document: how a computed calibration is stored in the
// database, exported and imported, and hashed (SPEC section 4).
//
//   {"format": "nomtag-calibration/1",
//    "labels": [{"model": "descriptors-energy/1", "label": "energetic",
//                "p5": 0.12, "p95": 0.91, "n": 480}, ...]}
//
// The canonical form is that JSON with sorted keys, labels in (model,
// label) order and no whitespace; its hash is the first 16 hex digits of
// its SHA-256. Identical data gives an identical hash; any change, another.
#ifndef NOMTAG_CLI_CALIBRATION_DOC_H_
#define NOMTAG_CLI_CALIBRATION_DOC_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/context.h"
#include "core/calibration.h"

namespace nomtag::cli {

nlohmann::json CalibrationToJson(const Calibration& calibration);

// A document of another shape (an older import) holds no labels: an empty
// calibration, not an error. A document of our format with a bad entry is
// InvalidArgument.
Result<Calibration> CalibrationFromJson(const nlohmann::json& doc);

// The canonical text and its hash.
std::string CanonicalHash(const nlohmann::json& doc, std::string* canonical);

// The tags each file's analysis yields under the active calibration and
// the session's tier rule, for ReconcileOptions::analysis_tags.
Result<std::function<Result<TagSet>(int64_t)>> AnalysisTagSource(
    Session& session);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_CALIBRATION_DOC_H_
