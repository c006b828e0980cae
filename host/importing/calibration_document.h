// A calibration as a JSON document, and its hash (SPEC section 4): the
// digest of the canonical form (sorted keys, no whitespace), so that any
// change of the calibration changes the hash and marks the files whose
// mode writes mood tiers as needing reconciliation.
//
// Shared by `nomtag calibration import` and the server's calibration
// route, so both give one document the same hash.
#ifndef NOMTAG_IMPORTING_CALIBRATION_DOCUMENT_H_
#define NOMTAG_IMPORTING_CALIBRATION_DOCUMENT_H_

#include <string>

#include "core/status.h"

namespace nomtag {

struct CalibrationDocument {
  std::string hash;       // 16 hex digits of the SHA-256 of canonical
  std::string canonical;  // what the database keeps
};

// Parses text (a non-empty JSON object). InvalidArgument otherwise.
Result<CalibrationDocument> ParseCalibrationDocument(const std::string& text);

}  // namespace nomtag

#endif  // NOMTAG_IMPORTING_CALIBRATION_DOCUMENT_H_
