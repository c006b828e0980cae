#include "analysis/calibration_doc.h"

#include <memory>

namespace nomtag {

constexpr char kFormat[] = "nomtag-calibration/1";

nlohmann::json CalibrationToJson(const Calibration& calibration) {
  nlohmann::json labels = nlohmann::json::array();
  for (const auto& [key, c] : calibration.labels)  // a map: (model, label)
    labels.push_back({{"model", key.first},
                      {"label", key.second},
                      {"p5", c.p5},
                      {"p95", c.p95},
                      {"n", c.count}});
  return {{"format", kFormat}, {"labels", labels}};
}

Result<Calibration> CalibrationFromJson(const nlohmann::json& doc) {
  Calibration out;
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != kFormat)
    return out;
  if (!doc.contains("labels") || !doc["labels"].is_array())
    return Status::InvalidArgument("a calibration needs a `labels` list");
  for (const auto& e : doc["labels"]) {
    if (!e.is_object() || !e.contains("model") || !e["model"].is_string() ||
        !e.contains("label") || !e["label"].is_string() || !e.contains("p5") ||
        !e["p5"].is_number() || !e.contains("p95") || !e["p95"].is_number())
      return Status::InvalidArgument(
          "each calibration label needs model, label (texts), p5 and p95 "
          "(numbers): " +
          e.dump());
    LabelCalibration c;
    c.p5 = e["p5"].get<double>();
    c.p95 = e["p95"].get<double>();
    if (!(c.p5 >= 0 && c.p95 <= 1 && c.p5 <= c.p95))
      return Status::InvalidArgument(
          "calibration p5 and p95 must satisfy 0 <= p5 <= p95 <= 1: " +
          e.dump());
    c.count = e.contains("n") && e["n"].is_number_integer()
                  ? e["n"].get<int64_t>()
                  : 0;
    out.labels[{e["model"].get<std::string>(), e["label"].get<std::string>()}] =
        c;
  }
  return out;
}

Result<CalibrationDocument> CheckCalibrationText(const std::string& text) {
  auto doc = ParseCalibrationDocument(text);
  if (!doc.ok()) return doc.status();
  auto checked = CalibrationFromJson(nlohmann::json::parse(doc->canonical));
  if (!checked.ok()) return checked.status();
  return doc;
}

Result<Calibration> ActiveCalibration(StorageDatabase& db) {
  auto def = db.CalibrationDefinition();
  if (!def.ok()) return def.status();
  if (def->empty()) return Calibration();
  return CalibrationFromJson(nlohmann::json::parse(*def, nullptr, false));
}

Result<std::function<Result<TagSet>(int64_t)>> AnalysisTagSource(
    StorageDatabase& db, const TierRule& rule) {
  auto hash = db.CalibrationHash();
  if (!hash.ok()) return hash.status();
  std::shared_ptr<Calibration> calibration;
  if (!hash->empty()) {
    auto active = ActiveCalibration(db);
    if (!active.ok()) return active.status();
    calibration = std::make_shared<Calibration>(std::move(*active));
  }
  StorageDatabase* store = &db;
  return std::function<Result<TagSet>(int64_t)>(
      [store, calibration, rule](int64_t file_id) -> Result<TagSet> {
        auto analysis = store->AnalysisOf(file_id);
        if (!analysis.ok()) return analysis.status();
        return AnalysisTags(*analysis, calibration.get(), rule);
      });
}

}  // namespace nomtag
