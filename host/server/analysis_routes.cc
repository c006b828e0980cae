// Analysis as jobs: analyse a library (every inference plugin, the files
// whose results are not current) and generate the calibration from the
// stored scores; and the per-head view of the calibration the page draws.
// The work is the CLI's (analysis/analyzer.h, analysis/calibrate.h): the
// same claims, the same results, the same hash.
//
//   POST /api/web/libraries/{id}/analyze   {"force": bool}   202 job | 409
//   POST /api/web/calibration/generate     {"library_id": N} 202 job | 409
//   GET  /api/web/calibration/heads        per head p5/p95/n/converged and
//                                          a 20-bin histogram of the scores
#include "analysis/analysis_report.h"
#include "analysis/calibrate.h"
#include "server/api.h"
#include "server/http_json.h"

namespace nomtag::server {
namespace {

Status AnalyzeWork(Api& api, const Library& lib, bool force, JobContext& job) {
  auto plugins = PluginsToAnalyze(*api.registry, "");
  if (!plugins.ok()) return plugins.status();
  auto db = api.OpenJobDatabase();
  if (!db.ok()) return db.status();
  nlohmann::json runs = nlohmann::json::array();
  int64_t done_before = 0, failed = 0, total_before = 0;
  for (const InferencePluginRef* plugin : *plugins) {
    if (job.StopRequested()) break;
    AnalyzeOptions options;
    options.force = force;
    options.lease_ms = api.lease_ms;
    options.on_progress = [&](int64_t done, int64_t due) {
      job.SetTotal(total_before + due);
      job.SetProgress(done_before + done, failed);
    };
    options.should_stop = [&] { return job.StopRequested(); };
    auto report = Analyze(**db, *plugin, lib, options);
    if (!report.ok()) return report.status();
    const AnalyzeReport& r = *report;
    total_before += r.due;
    done_before += r.analysed + r.failed + r.left_due;
    failed += r.failed;
    job.SetTotal(total_before);
    job.SetProgress(done_before, failed);
    for (const auto& [path, why] : r.failures) job.AddError(path, why);
    runs.push_back(ToJson(*plugin, r));
  }
  job.SetResult({{"plugins", runs}});
  return Status::OK();
}

void StartAnalyze(Api& api, const httplib::Request& req,
                  httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  auto body = ParseObject(req.body, {"force"});
  if (!body.ok()) return SendStatus(res, body.status());
  bool force = false;
  if (Status s = ReadField(*body, "force", &force); !s.ok())
    return SendStatus(res, s);
  // Refused before a job exists, so the page shows why at once.
  if (auto plugins = PluginsToAnalyze(*api.registry, ""); !plugins.ok())
    return SendStatus(res, plugins.status());
  auto started = api.jobs.Start(kAnalyzeJob, lib.id, /*cancellable=*/true,
                                [&api, lib, force](JobContext& job) {
                                  return AnalyzeWork(api, lib, force, job);
                                });
  if (!started.started) return SendConflict(res, started.job);
  SendStarted(res, started.job);
}

Status CalibrateWork(Api& api, int64_t library_id, JobContext& job) {
  auto db = api.OpenJobDatabase();
  if (!db.ok()) return db.status();
  auto report = GenerateCalibration(**db, library_id);
  if (!report.ok()) return report.status();
  job.SetTotal(report->scores);
  job.SetProgress(report->scores, 0);
  nlohmann::json out = ToJson(*report);
  auto affected = AffectedLibraries(**db);
  if (!affected.ok()) return affected.status();
  out["library_id"] = library_id;
  out["libraries"] = *affected;
  job.SetResult(out);
  return Status::OK();
}

void StartCalibrate(Api& api, const httplib::Request& req,
                    httplib::Response& res) {
  auto body = ParseObject(req.body, {"library_id"});
  if (!body.ok()) return SendStatus(res, body.status());
  int64_t library_id = 0;
  if (auto it = body->find("library_id"); it != body->end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1)
      return SendError(res, 400, "'library_id' must be a library's id");
    library_id = it->get<int64_t>();
    if (auto lib = api.LibraryById(library_id); !lib.ok())
      return SendStatus(res, lib.status());
  }
  // One calibration for every library: one generation at a time, whatever
  // its scope (the job runs as library 0). Reading the scores and writing
  // one row: not stopped halfway.
  auto started = api.jobs.Start(kCalibrateJob, 0, /*cancellable=*/false,
                                [&api, library_id](JobContext& job) {
                                  return CalibrateWork(api, library_id, job);
                                });
  if (!started.started) return SendConflict(res, started.job);
  SendStarted(res, started.job);
}

void Heads(Api& api, httplib::Response& res) {
  // Its own connection: reading every score must not hold up the routes
  // that share the server's.
  auto db = api.OpenJobDatabase();
  if (!db.ok()) return SendStatus(res, db.status());
  auto view = DescribeCalibration(**db);
  if (!view.ok()) return SendStatus(res, view.status());
  nlohmann::json out = ToJson(*view);
  out.erase("changed");
  out["active"] = !view->hash.empty();
  out["bins"] = kViewHistogramBins;
  SendJson(res, 200, out);
}

}  // namespace

void AddAnalysisRoutes(httplib::Server& server, Api& api) {
  server.Post(R"(/api/web/libraries/([^/]+)/analyze)",
              [&api](const httplib::Request& req, httplib::Response& res) {
                StartAnalyze(api, req, res);
              });
  server.Post("/api/web/calibration/generate",
              [&api](const httplib::Request& req, httplib::Response& res) {
                StartCalibrate(api, req, res);
              });
  server.Get("/api/web/calibration/heads",
             [&api](const httplib::Request&, httplib::Response& res) {
               Heads(api, res);
             });
}

}  // namespace nomtag::server
