// nomtag reconcile LIBRARY: make the files match the database.

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "analysis/calibration_doc.h"
#include "cli/context.h"
#include "core/reconciler.h"
#include "report/json_text.h"
#include "write/recovery.h"
#include "write/safe_write_projector.h"

namespace nomtag::cli {
namespace {

struct ReconcileArgs {
  std::string library;
  uint32_t batch = 100;
  // Two groups in flight: while one waits on its syncs and the database,
  // the other is read, built and verified (bench/README.md, group commit:
  // ~10 % less durable time for 3,000 changed files on two cores).
  int workers = 2;
  int64_t lease_ms = 10 * 60 * 1000;
  bool dry_run = false;
  bool json = false;
};

std::string List(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// Exit status when the run ended with files other workers still hold.
constexpr int kExitHeldByOthers = 3;

std::string Utc(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

int Run(const GlobalOptions& opts, const ReconcileArgs& args) {
  Session session;
  // Reconciling projects the database into files: no analysis plugin.
  if (Status s = OpenSession(opts, &session,
                             args.dry_run ? OpenOptions::Access::kRead
                                          : OpenOptions::Access::kWrite,
                             kFormatPlugins);
      !s.ok())
    return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  if (!args.dry_run) {
    // Leftovers of killed runs, once for the whole library; each write
    // then only checks for a journal beside its file.
    RecoveryReport recovery;
    RecoverTree(lib->root, &recovery);
    if (recovery.AnythingResolved())
      std::fprintf(stderr, "nomtag: resolved interrupted writes: %s\n",
                   recovery.Summary().c_str());
  }
  SafeWriteProjector projector(session.registry);
  ReconcileOptions options;
  options.batch = args.batch;
  options.workers = args.workers;
  options.lease_ms = args.lease_ms;
  options.dry_run = args.dry_run;
  auto analysis_tags = AnalysisTagSource(*session.db, session.tiers);
  if (!analysis_tags.ok()) return Fail(analysis_tags.status());
  options.analysis_tags = *analysis_tags;
  Result<ReconcileReport> report = Status::Internal("not run");
  {
    Progress progress("reconciling");
    options.on_progress = [&](const ReconcileProgress& p) {
      progress.Update(p.done, p.pending);
    };
    report = Reconcile(*session.db, projector, *lib, options);
  }
  if (!report.ok()) return Fail(report.status());
  const ReconcileReport& r = *report;
  if (args.dry_run) {
    if (args.json) {
      nlohmann::json out{{"library", lib->name},
                         {"dry_run", true},
                         {"pending", r.remaining},
                         {"files", nlohmann::json::array()}};
      for (const auto& d : r.diffs)
        out["files"].push_back({{"path", d.path},
                                {"added", d.added},
                                {"changed", d.changed},
                                {"removed", d.removed},
                                {"error", d.error}});
      PrintJson(out);
      return 0;
    }
    std::printf("dry run: %lld file(s) pending in '%s'; nothing is written\n",
                static_cast<long long>(r.remaining), lib->name.c_str());
    for (const auto& d : r.diffs) {
      if (!d.error.empty()) {
        std::printf("  %s: cannot read: %s\n", d.path.c_str(), d.error.c_str());
        continue;
      }
      if (d.added.empty() && d.changed.empty() && d.removed.empty()) {
        std::printf("  %s: already right (will be recorded)\n", d.path.c_str());
        continue;
      }
      std::printf("  %s:", d.path.c_str());
      if (!d.added.empty()) std::printf(" +[%s]", List(d.added).c_str());
      if (!d.changed.empty()) std::printf(" ~[%s]", List(d.changed).c_str());
      if (!d.removed.empty()) std::printf(" -[%s]", List(d.removed).c_str());
      std::printf("\n");
    }
    return 0;
  }
  if (args.json) {
    nlohmann::json out{{"library", lib->name},
                       {"processed", r.processed},
                       {"written", r.written},
                       {"failed", r.failed},
                       {"remaining", r.remaining},
                       {"superseded", r.superseded},
                       {"worker", r.worker},
                       {"failures", nlohmann::json::array()},
                       {"held_by_others", nlohmann::json::array()}};
    for (const auto& [path, error] : r.failures)
      out["failures"].push_back({{"path", path}, {"error", error}});
    for (const auto& h : r.held_by_others)
      out["held_by_others"].push_back({{"worker", h.worker},
                                       {"files", h.files},
                                       {"lease_until_ms", h.expires_ms},
                                       {"lease_until", Utc(h.expires_ms)},
                                       {"alive", h.alive}});
    PrintJson(out);
  } else {
    std::printf(
        "%s: %lld processed (%lld written), %lld failed, %lld "
        "remaining\n",
        lib->name.c_str(), static_cast<long long>(r.processed),
        static_cast<long long>(r.written), static_cast<long long>(r.failed),
        static_cast<long long>(r.remaining));
    for (const auto& [path, error] : r.failures)
      std::printf("  failed: %s: %s\n", path.c_str(), error.c_str());
    if (r.superseded > 0)
      std::printf(
          "  %lld file(s) were taken over by another worker after this "
          "one's lease ran out\n",
          static_cast<long long>(r.superseded));
    for (const auto& h : r.held_by_others)
      std::printf("  held by worker %s: %lld file(s), lease until %s%s\n",
                  h.worker.c_str(), static_cast<long long>(h.files),
                  Utc(h.expires_ms).c_str(),
                  h.alive ? " (alive: it is still working on them)" : "");
  }
  if (r.failed > 0) return 2;
  if (!r.held_by_others.empty()) {
    std::fprintf(stderr,
                 "nomtag: %lld file(s) remain: other workers hold them (see "
                 "above); run again after their leases\n",
                 static_cast<long long>(r.remaining));
    return kExitHeldByOthers;
  }
  return 0;
}

}  // namespace

void AddReconcileCommand(CLI::App& app, const GlobalOptions& opts,
                         int* exit_code) {
  auto args = std::make_shared<ReconcileArgs>();
  CLI::App* cmd = app.add_subcommand(
      "reconcile",
      "Write the database's tags into the library's files, as its write "
      "mode says, until every file matches. Files already right are not "
      "rewritten. Exit status 2 when some files failed (they stay pending), "
      "3 when files remain that other live workers hold (named, with their "
      "leases).");
  cmd->add_option("LIBRARY", args->library, "name or id")->required();
  cmd->add_option("--batch", args->batch, "files claimed at a time (1-1000)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--workers", args->workers,
                  "groups of files written side by side (default 2: one is "
                  "read and checked while another waits on the disk)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--lease-ms", args->lease_ms,
                  "how long a claim protects a file from other live workers "
                  "(1000-604800000; renewed while the run lives; a killed "
                  "run's claims are taken over at once)")
      ->check(CLI::Range(kMinLeaseMs, kMaxLeaseMs));
  cmd->add_flag("--dry-run", args->dry_run,
                "show, per file, the keys that would be added (+), changed "
                "(~) and removed (-); write nothing");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
