// The HTTP API of `nomtag serve` (SPEC section 7) and what the library
// page needs. Routes live in one file per subject (libraries, jobs,
// calibration, the page); this header is what they share.
//
// Every route under /api/ answers JSON; an unknown library is 404 on every
// route; bad input is a 4xx with {"detail": "..."}.
#ifndef NOMTAG_SERVER_API_H_
#define NOMTAG_SERVER_API_H_

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/library.h"
#include "core/status.h"
#include "core/tiers.h"
#include "plugins/plugin_registry.h"
#include "server/job_runner.h"
#include "store/storage_database.h"

namespace nomtag::server {

// What the routes work with. Owned by Serve(); lives as long as the
// server. The registry is read-only once loaded; the database serialises
// its calls; jobs open connections of their own.
struct Api {
  PluginRegistry* registry = nullptr;
  StorageDatabase* db = nullptr;
  JobRunner jobs;
  int64_t lease_ms = 10 * 60 * 1000;
  TierRule tiers;  // the mood tier rule reconcile jobs write with

  // Another connection to the same database, for a job's thread (a
  // scan's long transactions must not mix with the API's writes).
  Result<std::unique_ptr<StorageDatabase>> OpenJobDatabase() const;
  // NotFound ("Library not found") when there is none with that id.
  Result<Library> LibraryById(int64_t id) const;
};

// The library id of a /api/web/libraries/{id}/... route (match 1), or a
// 404 answer already sent.
bool LibraryFromPath(const Api& api, const httplib::Request& req,
                     httplib::Response& res, Library* out);

// Per library: {"library_id", "name", "requires_reconciliation",
// "affected_file_count"}, what the page asks about after a calibration
// change.
Result<nlohmann::json> AffectedLibraries(StorageDatabase& db);

// 409 with the job of that kind already running on the library.
void SendConflict(httplib::Response& res, const JobSnapshot& running);
// 202 {"status": "started", "task_id", "job"} plus extra's fields.
void SendStarted(httplib::Response& res, const JobSnapshot& job,
                 const nlohmann::json& extra = nlohmann::json::object());

// Job kinds (one of a kind runs per library at a time). A calibration is
// not a library's: its job runs as library 0.
inline constexpr char kScanJob[] = "scan";
inline constexpr char kReconcileJob[] = "reconcile";
inline constexpr char kAnalyzeJob[] = "analyze";
inline constexpr char kCalibrateJob[] = "calibrate";
inline constexpr const char* kLibraryJobKinds[] = {kScanJob, kReconcileJob,
                                                   kAnalyzeJob};

void AddLibraryRoutes(httplib::Server& server, Api& api);
void AddJobRoutes(httplib::Server& server, Api& api);
void AddCalibrationRoutes(httplib::Server& server, Api& api);
// Analyze jobs and the calibration's generation and per-head view.
void AddAnalysisRoutes(httplib::Server& server, Api& api);
// The page, its assets and the one-time login link.
void AddPageRoutes(httplib::Server& server, const std::string& token,
                   const std::string& login_code);

}  // namespace nomtag::server

#endif  // NOMTAG_SERVER_API_H_
