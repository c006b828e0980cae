// The active calibration: show, apply a document, clear. Applying or
// clearing answers, per library, how many files now need reconciliation,
// so the page can ask "N files need reconciliation. Run now?".
//
// UNFINISHED: POST /api/web/calibration/generate (computing a calibration
// from analysed scores, as a job) and the per-head p5/p95 and histograms
// come with the analysis work; until then the route answers 501.
#include "importing/calibration_document.h"
#include "server/api.h"
#include "server/http_json.h"

namespace nomtag::server {
namespace {

void SendCalibration(Api& api, httplib::Response& res) {
  auto hash = api.db->CalibrationHash();
  if (!hash.ok()) return SendStatus(res, hash.status());
  auto libs = api.db->Libraries();
  if (!libs.ok()) return SendStatus(res, libs.status());
  nlohmann::json affected = nlohmann::json::array();
  for (const auto& lib : *libs) {
    auto pending = api.db->CountPending(lib.id);
    if (!pending.ok()) return SendStatus(res, pending.status());
    affected.push_back({{"library_id", lib.id},
                        {"name", lib.name},
                        {"requires_reconciliation", *pending > 0},
                        {"affected_file_count", *pending}});
  }
  SendJson(
      res, 200,
      {{"active", !hash->empty()}, {"hash", *hash}, {"libraries", affected}});
}

void Apply(Api& api, const httplib::Request& req, httplib::Response& res) {
  auto body = ParseObject(req.body, {"calibration"});
  if (!body.ok()) return SendStatus(res, body.status());
  auto it = body->find("calibration");
  if (it == body->end() || !it->is_object())
    return SendError(res, 400, "'calibration' must be a JSON object");
  auto doc = ParseCalibrationDocument(
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
  server.Post("/api/web/calibration/generate",
              [](const httplib::Request&, httplib::Response& res) {
                SendError(res, 501,
                          "generating a calibration needs the analysis work, "
                          "which this build does not have yet");
              });
}

}  // namespace nomtag::server
