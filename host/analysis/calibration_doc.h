// The calibration document: how a computed calibration is stored in the
// database, exported and imported, and hashed (SPEC section 4).
//
//   {"format": "nomtag-calibration/1",
//    "labels": [{"model": "descriptors-energy/1", "label": "energetic",
//                "p5": 0.12, "p95": 0.91, "n": 480}, ...]}
//
// Labels are kept in (model, label) order; the canonical form and the hash
// are importing/calibration_document's, shared with `calibration import`
// and the server. Identical data gives an identical hash; any change,
// another.
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

// The tags each file's analysis yields under the active calibration and
// the session's tier rule, for ReconcileOptions::analysis_tags.
Result<std::function<Result<TagSet>(int64_t)>> AnalysisTagSource(
    Session& session);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_CALIBRATION_DOC_H_
