// Long work as background jobs: scan, reconcile (SPEC section 7's
// reconcile-tags and reconcile-status), and the jobs themselves (status,
// stop). A second start of the same kind on the same library answers 409
// with the running job. Analyze and calibration jobs: analysis_routes.cc.
#include "analysis/calibration_doc.h"
#include "core/reconciler.h"
#include "scan/scanner.h"
#include "server/api.h"
#include "server/http_json.h"
#include "write/recovery.h"
#include "write/safe_write_projector.h"

namespace nomtag::server {

void SendConflict(httplib::Response& res, const JobSnapshot& running) {
  SendJson(res, 409,
           {{"detail", "a " + running.kind + " job is already running" +
                           (running.library_id ? " for this library" : "")},
            {"job", ToJson(running)}});
}

void SendStarted(httplib::Response& res, const JobSnapshot& job,
                 const nlohmann::json& extra) {
  nlohmann::json out{{"status", "started"},
                     {"task_id", std::to_string(job.id)},
                     {"job", ToJson(job)}};
  for (const auto& [k, v] : extra.items()) out[k] = v;
  SendJson(res, 202, out);
}

namespace {

Status ScanWork(Api& api, const Library& lib, JobContext& job) {
  auto db = api.OpenJobDatabase();
  if (!db.ok()) return db.status();
  auto report = ScanLibrary(**db, *api.registry, lib,
                            [&](int64_t seen) { job.SetProgress(seen, 0); });
  if (!report.ok()) return report.status();
  const ScanReport& r = *report;
  job.SetTotal(r.seen);
  job.SetProgress(r.seen,
                  static_cast<int64_t>(r.errors.size() + r.unseen.size()));
  for (const auto& [path, error] : r.errors) job.AddError(path, error);
  // Folders not read, as `nomtag scan` names them: nothing under them was
  // marked missing.
  nlohmann::json unseen = nlohmann::json::array();
  for (const auto& [path, error] : r.unseen) {
    job.AddError(path, "not read: " + error);
    unseen.push_back({{"path", path}, {"error", error}});
  }
  job.SetResult({{"seen", r.seen},
                 {"added", r.added},
                 {"updated", r.updated},
                 {"unchanged", r.unchanged},
                 {"moved", r.moved},
                 {"missing", r.missing},
                 {"skipped", r.skipped},
                 {"complete", r.complete()},
                 {"unseen", unseen},
                 {"interrupted_writes", r.recovery.Summary()}});
  return Status::OK();
}

Status ReconcileWork(Api& api, const Library& lib, uint32_t batch,
                     JobContext& job) {
  // The job's own connection is its own worker, as a separate CLI process
  // would be: the reconciler starts it (a liveness lock held while the
  // connection is open) and every commit is checked against its claim.
  auto db = api.OpenJobDatabase();
  if (!db.ok()) return db.status();
  // Leftovers of killed runs first, as `nomtag reconcile` does.
  RecoveryReport recovery;
  RecoverTree(lib.root, &recovery);
  SafeWriteProjector projector(*api.registry);
  ReconcileOptions options;
  // The analysis tags (scores, descriptors, mood tiers under the active
  // calibration) as `nomtag reconcile` merges them: without them a server
  // run would take them out of the files.
  auto analysis_tags = AnalysisTagSource(**db, api.tiers);
  if (!analysis_tags.ok()) return analysis_tags.status();
  options.analysis_tags = *analysis_tags;
  options.batch = batch;
  options.lease_ms = api.lease_ms;
  options.on_progress = [&](const ReconcileProgress& p) {
    job.SetTotal(p.pending);
    job.SetProgress(p.done, 0);
  };
  options.should_stop = [&] { return job.StopRequested(); };
  auto report = Reconcile(**db, projector, lib, options);
  if (!report.ok()) return report.status();
  const ReconcileReport& r = *report;
  job.SetProgress(r.processed + r.failed + r.superseded, r.failed);
  for (const auto& [path, error] : r.failures) job.AddError(path, error);
  // Files other live workers (a CLI run, another server) hold are named
  // with their leases, as `nomtag reconcile` names them.
  nlohmann::json held = nlohmann::json::array();
  for (const auto& h : r.held_by_others)
    held.push_back({{"worker", h.worker},
                    {"files", h.files},
                    {"lease_until_ms", h.expires_ms},
                    {"alive", h.alive}});
  job.SetResult({{"processed", r.processed},
                 {"written", r.written},
                 {"failed", r.failed},
                 {"remaining", r.remaining},
                 {"superseded", r.superseded},
                 {"worker", r.worker},
                 {"held_by_others", held},
                 {"interrupted_writes", recovery.Summary()}});
  return Status::OK();
}

void StartScan(Api& api, const httplib::Request& req, httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  if (auto body = ParseObject(req.body, {}); !body.ok())
    return SendStatus(res, body.status());
  // A stopped scan would mark unseen files missing: scans run to the end.
  auto started = api.jobs.Start(
      kScanJob, lib.id, /*cancellable=*/false,
      [&api, lib](JobContext& job) { return ScanWork(api, lib, job); });
  if (!started.started) return SendConflict(res, started.job);
  SendStarted(res, started.job);
}

// POST /libraries/{id}/reconcile-tags[?batch_size=N][&wait=true]
void StartReconcile(Api& api, const httplib::Request& req,
                    httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  if (auto body = ParseObject(req.body, {}); !body.ok())
    return SendStatus(res, body.status());
  int64_t batch = 100;
  if (req.has_param("batch_size") &&
      (!ParseId(req.get_param_value("batch_size"), &batch) || batch < 1 ||
       batch > 1000))
    return SendError(res, 400, "batch_size is a whole number from 1 to 1000");
  bool wait = false;
  if (req.has_param("wait")) {
    const std::string w = req.get_param_value("wait");
    if (w != "true" && w != "false")
      return SendError(res, 400, "wait is true or false");
    wait = w == "true";
  }
  auto pending = api.db->CountPending(lib.id);
  if (!pending.ok()) return SendStatus(res, pending.status());
  auto started = api.jobs.Start(
      kReconcileJob, lib.id, /*cancellable=*/true,
      [&api, lib, batch](JobContext& job) {
        return ReconcileWork(api, lib, static_cast<uint32_t>(batch), job);
      });
  if (!started.started) return SendConflict(res, started.job);
  if (!wait)
    return SendStarted(res, started.job, {{"pending_count", *pending}});
  auto done = api.jobs.Wait(started.job.id);
  if (!done) return SendError(res, 500, "the job vanished");
  if (done->state == JobState::kFailed)
    return SendJson(res, 500,
                    {{"detail", done->error}, {"job", ToJson(*done)}});
  const nlohmann::json& r = done->result;
  SendJson(res, 200,
           {{"processed", r.value("processed", 0)},
            {"remaining", r.value("remaining", 0)},
            {"failed", r.value("failed", 0)},
            {"job", ToJson(*done)}});
}

void ReconcileStatus(Api& api, const httplib::Request& req,
                     httplib::Response& res) {
  Library lib;
  if (!LibraryFromPath(api, req, res, &lib)) return;
  auto pending = api.db->CountPending(lib.id);
  if (!pending.ok()) return SendStatus(res, pending.status());
  auto job = api.jobs.Running(kReconcileJob, lib.id);
  SendJson(res, 200,
           {{"pending_count", *pending},
            {"in_progress", job.has_value()},
            {"job", job ? ToJson(*job) : nlohmann::json(nullptr)}});
}

bool JobFromPath(Api& api, const httplib::Request& req, httplib::Response& res,
                 JobSnapshot* out) {
  int64_t id = 0;
  std::optional<JobSnapshot> job;
  if (ParseId(req.matches[1].str(), &id)) job = api.jobs.Find(id);
  if (!job) {
    SendError(res, 404, "Job not found");
    return false;
  }
  *out = *job;
  return true;
}

}  // namespace

void AddJobRoutes(httplib::Server& server, Api& api) {
  const std::string lib = R"(/api/web/libraries/([^/]+))";
  server.Post(lib + "/scan",
              [&api](const httplib::Request& req, httplib::Response& res) {
                StartScan(api, req, res);
              });
  server.Post(lib + "/reconcile-tags",
              [&api](const httplib::Request& req, httplib::Response& res) {
                StartReconcile(api, req, res);
              });
  server.Get(lib + "/reconcile-status",
             [&api](const httplib::Request& req, httplib::Response& res) {
               ReconcileStatus(api, req, res);
             });
  server.Get("/api/web/jobs",
             [&api](const httplib::Request&, httplib::Response& res) {
               nlohmann::json out = nlohmann::json::array();
               for (const auto& job : api.jobs.List())
                 out.push_back(ToJson(job));
               SendJson(res, 200, {{"jobs", out}});
             });
  server.Get(R"(/api/web/jobs/([^/]+))",
             [&api](const httplib::Request& req, httplib::Response& res) {
               JobSnapshot job;
               if (JobFromPath(api, req, res, &job))
                 SendJson(res, 200, ToJson(job));
             });
  server.Post(R"(/api/web/jobs/([^/]+)/cancel)",
              [&api](const httplib::Request& req, httplib::Response& res) {
                JobSnapshot job;
                if (!JobFromPath(api, req, res, &job)) return;
                if (auto body = ParseObject(req.body, {}); !body.ok())
                  return SendStatus(res, body.status());
                api.jobs.RequestStop(job.id);
                auto now = api.jobs.Find(job.id);
                SendJson(res, 202, ToJson(now ? *now : job));
              });
}

}  // namespace nomtag::server
