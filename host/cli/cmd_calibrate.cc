// nomtag calibrate [LIBRARY]: computes the calibration of SPEC section 4
// from the stored raw scores (the 5th and 95th percentile per model and
// label), makes it the active one, and prints its hash and, per label,
// whether it converged (p5 and p95 moved less than 0.01 since the last
// calibration). An identical calibration changes nothing; a changed one
// makes the files whose mode writes tiers need reconciliation.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/calibrate.h"
#include "cli/context.h"

namespace nomtag::cli {
namespace {

struct CalibrateArgs {
  std::string library;  // empty: every library
  bool json = false;
};

int Run(const GlobalOptions& opts, const CalibrateArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  int64_t library_id = 0;
  if (!args.library.empty()) {
    auto lib = session.db->FindLibrary(args.library);
    if (!lib.ok()) return Fail(lib.status());
    library_id = lib->id;
  }
  auto report = GenerateCalibration(*session.db, library_id);
  if (!report.ok()) return Fail(report.status());
  nlohmann::json out = ToJson(*report);
  if (args.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  const nlohmann::json& heads = out["labels"];
  int converged_count = 0;
  for (const auto& h : report->heads) converged_count += h.converged;
  for (const auto& h : heads)
    std::printf("  %-28s %-12s p5 %.4f  p95 %.4f  n %lld  %s\n",
                h["model"].get<std::string>().c_str(),
                h["label"].get<std::string>().c_str(), h["p5"].get<double>(),
                h["p95"].get<double>(), h["n"].get<long long>(),
                h["converged"].get<bool>() ? "converged" : "not converged");
  std::printf("calibration %s (%s; %d of %zu labels converged)\n",
              report->hash.c_str(),
              report->changed ? "now active; files that write mood tiers need "
                                "reconciliation"
                              : "unchanged",
              converged_count, heads.size());
  return 0;
}

}  // namespace

void AddCalibrateCommand(CLI::App& app, const GlobalOptions& opts,
                         int* exit_code) {
  auto args = std::make_shared<CalibrateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "calibrate",
      "Compute the calibration of mood scores from the analysed files "
      "(of LIBRARY, or of every library) and make it the active one.");
  cmd->add_option("LIBRARY", args->library, "name or id (default: all)");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
