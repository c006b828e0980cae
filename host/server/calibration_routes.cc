// The active calibration: show, apply a document, clear. Applying or
// clearing answers, per library, how many files now need reconciliation,
// so the page can ask "N files need reconciliation. Run now?".
//
// Generating one (a job) and the per-head view with histograms:
// analysis_routes.cc.
#include "analysis/calibration_doc.h"
#include "server/api.h"
#include "server/http_json.h"

namespace nomtag::server {

Result<nlohmann::json> AffectedLibraries(StorageDatabase& db) {
  auto libs = db.Libraries();
  if (!libs.ok()) return libs.status();
  nlohmann::json affected = nlohmann::json::array();
  for (const auto& lib : *libs) {
    auto pending = db.CountPending(lib.id);
    if (!pending.ok()) return pending.status();
    affected.push_back({{"library_id", lib.id},
                        {"name", lib.name},
                        {"requires_reconciliation", *pending > 0},
                        {"affected_file_count", *pending}});
  }
  return affected;
}

namespace {

void SendCalibration(Api& api, httplib::Response& res) {
  auto hash = api.db->CalibrationHash();
  if (!hash.ok()) return SendStatus(res, hash.status());
  auto affected = AffectedLibraries(*api.db);
  if (!affected.ok()) return SendStatus(res, affected.status());
  SendJson(
      res, 200,
      {{"active", !hash->empty()}, {"hash", *hash}, {"libraries", *affected}});
}

void Apply(Api& api, const httplib::Request& req, httplib::Response& res) {
  auto body = ParseObject(req.body, {"calibration"});
  if (!body.ok()) return SendStatus(res, body.status());
  auto it = body->find("calibration");
  if (it == body->end() || !it->is_object())
    return SendError(res, 400, "'calibration' must be a JSON object");
  // Checked as `nomtag calibration import` checks a file.
  auto doc = CheckCalibrationText(
      it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!doc.ok()) return SendStatus(res, doc.status());
  if (Status s = api.db->SetCalibration(doc->hash, doc->canonical); !s.ok())
    return SendStatus(res, s);
  SendCalibration(api, res);
}

}  // namespace

void AddCalibrationRoutes(httplib::Server& server, Api& api) {
  server.Get("/api/web/calibration",
             [&api](const httplib::Request&, httplib::Response& res) {
               SendCalibration(api, res);
             });
  server.Put("/api/web/calibration",
             [&api](const httplib::Request& req, httplib::Response& res) {
               Apply(api, req, res);
             });
  server.Delete("/api/web/calibration",
                [&api](const httplib::Request&, httplib::Response& res) {
                  if (Status s = api.db->SetCalibration("", ""); !s.ok())
                    return SendStatus(res, s);
                  SendCalibration(api, res);
                });
}

}  // namespace nomtag::server
