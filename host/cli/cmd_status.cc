// nomtag status LIBRARY: what is pending, in progress and failing.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/analyzer.h"
#include "cli/context.h"
#include "report/json_text.h"
#include "report/library_json.h"

namespace nomtag::cli {
namespace {

struct StatusArgs {
  std::string library;
  int64_t lease_ms = 10 * 60 * 1000;
  bool json = false;
};

int Run(const GlobalOptions& opts, const StatusArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session, OpenOptions::Access::kRead);
      !s.ok())
    return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  auto st = session.db->StatusOf(lib->id, args.lease_ms);
  if (!st.ok()) return Fail(st.status());
  auto calibration = session.db->CalibrationHash();
  if (!calibration.ok()) return Fail(calibration.status());
  // The analysis side, per loaded inference plugin.
  nlohmann::json analysis = nlohmann::json::array();
  for (const auto& plugin : session.registry.inferences()) {
    auto a =
        session.db->AnalysisStatusOf(lib->id, KeyOf(plugin), args.lease_ms);
    if (!a.ok()) return Fail(a.status());
    nlohmann::json failures = nlohmann::json::array();
    for (const auto& [path, why] : a->failures)
      failures.push_back({{"path", path}, {"reason", why}});
    analysis.push_back({{"plugin", plugin.id},
                        {"analysed", a->analysed},
                        {"due", a->due},
                        {"failed", a->failed},
                        {"in_progress", a->in_progress},
                        {"failures", failures}});
  }
  long long hardlinked = 0;
  for (const auto& failure : st->failures)
    if (HeldByHardLinks(failure.second)) ++hardlinked;
  if (args.json) {
    nlohmann::json out{{"library", lib->name},
                       {"file_write_mode", WriteModeName(lib->mode)},
                       {"calibration_hash", *calibration},
                       {"files", st->files},
                       {"missing", st->missing},
                       {"pending_count", st->pending},
                       {"in_progress", st->in_progress},
                       {"failed", st->failed},
                       {"held_by_hard_links", hardlinked},
                       {"analysis", analysis},
                       {"failures", FailuresJson(st->failures)}};
    PrintJson(out);
    return 0;
  }
  std::printf("library '%s' (%s), write mode %s, calibration %s\n",
              lib->name.c_str(), lib->root.c_str(), WriteModeName(lib->mode),
              calibration->empty() ? "none (mood tiers are not written)"
                                   : calibration->c_str());
  std::printf("  %lld files, %lld missing\n", static_cast<long long>(st->files),
              static_cast<long long>(st->missing));
  std::printf("  %lld pending, %lld in progress, %lld failed\n",
              static_cast<long long>(st->pending),
              static_cast<long long>(st->in_progress),
              static_cast<long long>(st->failed));
  if (hardlinked > 0)
    std::printf(
        "  %lld of them cannot be written without breaking a hard link "
        "(allow it with `nomtag library set %s --hardlinks break`)\n",
        hardlinked, lib->name.c_str());
  for (const auto& [path, error] : st->failures)
    std::printf("  failed: %s: %s\n", path.c_str(), error.c_str());
  for (const auto& a : analysis) {
    // `failed` counts among `analysed` (a failure is a stored, current
    // result): say so, or "9 analysed, 6 failed" reads as 15 files.
    std::printf(
        "  analysis (%s): %lld analysed (%lld of them failed), "
        "%lld due\n",
        a["plugin"].get<std::string>().c_str(), a["analysed"].get<long long>(),
        a["failed"].get<long long>(), a["due"].get<long long>());
    for (const auto& f : a["failures"])
      std::printf("    not analysed: %s: %s\n",
                  f["path"].get<std::string>().c_str(),
                  f["reason"].get<std::string>().c_str());
  }
  return 0;
}

}  // namespace

void AddStatusCommand(CLI::App& app, const GlobalOptions& opts,
                      int* exit_code) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "How many files of the library need reconciliation, are being "
      "written, or failed last time (with the errors).");
  cmd->add_option("LIBRARY", args->library, "name or id")->required();
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
