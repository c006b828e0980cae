// nomtag calibrate [LIBRARY]: computes the calibration of SPEC section 4
// from the stored raw scores (the 5th and 95th percentile per model and
// label), makes it the active one, and prints its hash and, per label,
// whether it converged (p5 and p95 moved less than 0.01 since the last
// calibration). An identical calibration changes nothing; a changed one
// makes the files whose mode writes tiers need reconciliation.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/calibration_doc.h"
#include "cli/context.h"
#include "importing/calibration_document.h"

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
  CalibrationBuilder builder;
  int64_t scores = 0;
  Status read = session.db->ForEachHead(library_id, [&](const HeadScore& h) {
    builder.Add(h.model_id, h.label, h.score);
    ++scores;
  });
  if (!read.ok()) return Fail(read);
  if (scores == 0)
    return Fail(Status::NotFound(
        "no analysed scores to calibrate from; run `nomtag analyze` first"));
  Calibration now = builder.Build();

  auto old_hash = session.db->CalibrationHash();
  if (!old_hash.ok()) return Fail(old_hash.status());
  Calibration before;
  if (!old_hash->empty()) {
    auto def = session.db->CalibrationDefinition();
    if (!def.ok()) return Fail(def.status());
    auto parsed =
        CalibrationFromJson(nlohmann::json::parse(*def, nullptr, false));
    if (parsed.ok()) before = std::move(*parsed);
  }

  auto doc = ParseCalibrationDocument(CalibrationToJson(now).dump());
  if (!doc.ok()) return Fail(doc.status());
  const std::string& hash = doc->hash;
  bool changed = hash != *old_hash;
  if (changed)
    if (Status s = session.db->SetCalibration(hash, doc->canonical); !s.ok())
      return Fail(s);

  nlohmann::json heads = nlohmann::json::array();
  int converged_count = 0;
  for (const auto& [key, c] : now.labels) {
    auto it = before.labels.find(key);
    bool converged = it != before.labels.end() && Converged(it->second, c);
    converged_count += converged;
    heads.push_back({{"model", key.first},
                     {"label", key.second},
                     {"p5", c.p5},
                     {"p95", c.p95},
                     {"n", c.count},
                     {"converged", converged}});
  }
  if (args.json) {
    std::printf("%s\n", nlohmann::json{{"hash", hash},
                                       {"changed", changed},
                                       {"scores", scores},
                                       {"labels", heads}}
                            .dump(2)
                            .c_str());
    return 0;
  }
  for (const auto& h : heads)
    std::printf("  %-28s %-12s p5 %.4f  p95 %.4f  n %lld  %s\n",
                h["model"].get<std::string>().c_str(),
                h["label"].get<std::string>().c_str(), h["p5"].get<double>(),
                h["p95"].get<double>(), h["n"].get<long long>(),
                h["converged"].get<bool>() ? "converged" : "not converged");
  std::printf("calibration %s (%s; %d of %zu labels converged)\n", hash.c_str(),
              changed ? "now active; files that write mood tiers need "
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
