// Canonical form and hash of a calibration document.
#include "importing/calibration_document.h"

#include <openssl/sha.h>

#include <nlohmann/json.hpp>

namespace nomtag {

Result<CalibrationDocument> ParseCalibrationDocument(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded())
    return Status::InvalidArgument("a calibration must be valid JSON");
  if (!doc.is_object() || doc.empty())
    return Status::InvalidArgument("a calibration is a non-empty JSON object");
  CalibrationDocument out;
  // nlohmann's objects keep their keys sorted: dump() is canonical.
  out.canonical =
      doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(out.canonical.data()),
         out.canonical.size(), md);
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {  // 16 hex digits are plenty to tell apart
    out.hash += hex[md[i] >> 4];
    out.hash += hex[md[i] & 15];
  }
  return out;
}

}  // namespace nomtag
