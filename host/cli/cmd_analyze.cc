// nomtag analyze LIBRARY: runs every loaded inference plugin over the files
// whose results are not current, and stores the results in the database.
// Audio files are opened read-only; the next `reconcile` projects. Exits
// non-zero only when the run itself fails (database, plugin session).

#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/analysis_report.h"
#include "cli/context.h"

namespace nomtag::cli {
namespace {

struct AnalyzeArgs {
  std::string library;
  std::string plugin;  // empty: every inference plugin
  int workers = 1;
  bool force = false;
  bool dry_run = false;
  bool json = false;
};

int Run(const GlobalOptions& opts, const AnalyzeArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  auto plugins = PluginsToAnalyze(session.registry, args.plugin);
  if (!plugins.ok()) return Fail(plugins.status());
  AnalyzeOptions options;
  options.workers = args.workers;
  options.force = args.force;
  options.dry_run = args.dry_run;

  nlohmann::json out{{"library", lib->name},
                     {"dry_run", args.dry_run},
                     {"plugins", nlohmann::json::array()}};
  for (const InferencePluginRef* ref : *plugins) {
    const InferencePluginRef& plugin = *ref;
    Result<AnalyzeReport> report = Status::Internal("not run");
    {
      Progress progress("analysing (" + plugin.id + ")");
      options.on_progress = [&](int64_t done, int64_t due) {
        progress.Update(done, due);
      };
      report = Analyze(*session.db, plugin, *lib, options);
    }
    if (!report.ok()) return Fail(report.status());
    const AnalyzeReport& r = *report;
    double speed = r.wall_seconds > 0 ? r.audio_seconds / r.wall_seconds : 0;
    nlohmann::json p = ToJson(plugin, r);
    if (args.dry_run) p["due_paths"] = r.due_paths;
    out["plugins"].push_back(p);
    if (args.json) continue;
    if (args.dry_run) {
      std::printf("%s: %lld files due\n", plugin.id.c_str(),
                  static_cast<long long>(r.due));
      for (const auto& path : r.due_paths) std::printf("  %s\n", path.c_str());
      continue;
    }
    std::printf(
        "%s: %lld files analysed, %lld failed, %lld left due; %.1f s of audio "
        "in %.1f s (%.0f× real time)\n",
        plugin.id.c_str(), static_cast<long long>(r.analysed),
        static_cast<long long>(r.failed), static_cast<long long>(r.left_due),
        r.audio_seconds, r.wall_seconds, speed);
    for (const auto& [reason, n] : r.failures_by_reason)
      std::printf("  %lld × %s\n", static_cast<long long>(n), reason.c_str());
    for (const auto& [path, why] : r.failures)
      std::printf("  failed: %s: %s\n", path.c_str(), why.c_str());
  }
  if (args.json)
    std::printf("%s\n", out.dump(2, ' ', false,
                                 nlohmann::json::error_handler_t::replace)
                            .c_str());
  // Files that could not be analysed are results (their reasons are in the
  // summary and in `status`), not a failed run: a nightly job goes on.
  return 0;
}

}  // namespace

void AddAnalyzeCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code) {
  auto args = std::make_shared<AnalyzeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "analyze",
      "Analyse the files of LIBRARY whose results are not current with every "
      "inference plugin; results go to the database only.");
  cmd->add_option("LIBRARY", args->library, "name or id")->required();
  cmd->add_option("--workers", args->workers, "parallel workers (1-256)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--plugin", args->plugin, "only this inference plugin id");
  cmd->add_flag("--force", args->force,
                "analyse again files whose results are current");
  cmd->add_flag("--dry-run", args->dry_run,
                "list what is due, analyse nothing");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
