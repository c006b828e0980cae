#include "analysis/calibrate.h"

#include "analysis/calibration_doc.h"

namespace nomtag {
namespace {

// Every stored score of library_id's present files (0: every library).
Status ReadScores(StorageDatabase& db, int64_t library_id,
                  CalibrationBuilder* builder, int64_t* scores) {
  return db.ForEachHead(library_id, [&](const HeadScore& h) {
    builder->Add(h.model_id, h.label, h.score);
    ++*scores;
  });
}

}  // namespace

Result<CalibrateReport> GenerateCalibration(StorageDatabase& db,
                                            int64_t library_id) {
  CalibrationBuilder builder;
  CalibrateReport out;
  if (Status s = ReadScores(db, library_id, &builder, &out.scores); !s.ok())
    return s;
  if (out.scores == 0)
    return Status::NotFound(
        "no analysed scores to calibrate from; run `nomtag analyze` first");
  Calibration now = builder.Build();
  auto old_hash = db.CalibrationHash();
  if (!old_hash.ok()) return old_hash.status();
  Calibration before;
  if (!old_hash->empty()) {
    auto active = ActiveCalibration(db);
    if (active.ok()) before = std::move(*active);  // unreadable: all new
  }
  auto doc = ParseCalibrationDocument(CalibrationToJson(now).dump());
  if (!doc.ok()) return doc.status();
  out.hash = doc->hash;
  out.changed = doc->hash != *old_hash;
  if (out.changed)
    if (Status s = db.SetCalibration(doc->hash, doc->canonical); !s.ok())
      return s;
  for (const auto& [key, c] : now.labels) {
    auto it = before.labels.find(key);
    out.heads.push_back({key.first,
                         key.second,
                         c.p5,
                         c.p95,
                         c.count,
                         it != before.labels.end() && Converged(it->second, c),
                         {}});
  }
  return out;
}

Result<CalibrateReport> DescribeCalibration(StorageDatabase& db) {
  CalibrateReport out;
  auto hash = db.CalibrationHash();
  if (!hash.ok()) return hash.status();
  out.hash = *hash;
  auto active = ActiveCalibration(db);
  if (!active.ok()) return active.status();
  CalibrationBuilder builder;
  if (Status s = ReadScores(db, 0, &builder, &out.scores); !s.ok()) return s;
  Calibration now = builder.Build();
  // Heads of the active calibration first (in its order), then heads that
  // only have scores.
  for (const auto& [key, c] : active->labels) {
    auto it = now.labels.find(key);
    out.heads.push_back({key.first, key.second, c.p5, c.p95, c.count,
                         it != now.labels.end() && Converged(c, it->second),
                         builder.CoarseHistogram(key, kViewHistogramBins)});
  }
  for (const auto& [key, c] : now.labels)
    if (!active->labels.count(key))
      out.heads.push_back({key.first, key.second, c.p5, c.p95, c.count, false,
                           builder.CoarseHistogram(key, kViewHistogramBins)});
  for (auto& h : out.heads)
    if (h.histogram.empty()) h.histogram.assign(kViewHistogramBins, 0);
  return out;
}

nlohmann::json ToJson(const CalibrateReport& report) {
  nlohmann::json heads = nlohmann::json::array();
  for (const auto& h : report.heads) {
    nlohmann::json one{{"model", h.model}, {"label", h.label},
                       {"p5", h.p5},       {"p95", h.p95},
                       {"n", h.n},         {"converged", h.converged}};
    if (!h.histogram.empty()) one["histogram"] = h.histogram;
    heads.push_back(one);
  }
  return {{"hash", report.hash},
          {"changed", report.changed},
          {"scores", report.scores},
          {"labels", heads}};
}

}  // namespace nomtag
