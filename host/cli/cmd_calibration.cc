// nomtag calibration show|import|clear: the active calibration. Its hash
// marks every file whose mode writes mood tiers as needing reconciliation
// when it changes.
//
// `nomtag calibrate` (cmd_calibrate.cc) computes one from the analysed
// scores; export and import share one between installations.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/calibration_doc.h"
#include "cli/context.h"
#include "importing/calibration_document.h"
#include "report/json_text.h"

namespace nomtag::cli {
namespace {

struct CalibrationArgs {
  std::string file;
  bool json = false;
};

int Show(const GlobalOptions& opts, const CalibrationArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session, OpenOptions::Access::kRead);
      !s.ok())
    return Fail(s);
  auto hash = session.db->CalibrationHash();
  if (!hash.ok()) return Fail(hash.status());
  if (args.json)
    PrintJson({{"active", !hash->empty()}, {"hash", *hash}});
  else
    std::printf("%s\n", hash->empty()
                            ? "no active calibration (mood tiers are not "
                              "written in any mode)"
                            : ("active calibration " + *hash).c_str());
  return 0;
}

int Import(const GlobalOptions& opts, const CalibrationArgs& args) {
  std::ifstream in(args.file);
  if (!in) return Fail(Status::NotFound(args.file + ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  auto doc = CheckCalibrationText(text.str());
  if (!doc.ok()) return Fail(doc.status().Prepend(args.file));
  const std::string& hash = doc->hash;
  const std::string& canonical = doc->canonical;
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  if (Status s = session.db->SetCalibration(hash, canonical); !s.ok())
    return Fail(s);
  if (args.json)
    PrintJson({{"active", true}, {"hash", hash}});
  else
    std::printf("active calibration %s\n", hash.c_str());
  return 0;
}

int Export(const GlobalOptions& opts, const CalibrationArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session, OpenOptions::Access::kRead);
      !s.ok())
    return Fail(s);
  auto def = session.db->CalibrationDefinition();
  if (!def.ok()) return Fail(def.status());
  if (def->empty())
    return Fail(Status::NotFound(
        "no active calibration to export (compute one with `nomtag "
        "calibrate`)"));
  if (args.file.empty() || args.file == "-") {
    std::printf("%s\n", def->c_str());
    return 0;
  }
  std::ofstream out(args.file, std::ios::trunc);
  out << *def << "\n";
  out.close();
  if (!out) return Fail(Status::IoError(args.file + ": cannot write"));
  std::printf("exported calibration to %s\n", args.file.c_str());
  return 0;
}

int Clear(const GlobalOptions& opts, const CalibrationArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
  if (Status s = session.db->SetCalibration("", ""); !s.ok()) return Fail(s);
  if (args.json) {
    PrintJson({{"active", false}, {"hash", ""}});
    return 0;
  }
  std::printf(
      "no active calibration: mood tiers will be removed from files "
      "at the next reconcile\n");
  return 0;
}

}  // namespace

void AddCalibrationCommand(CLI::App& app, const GlobalOptions& opts,
                           int* exit_code) {
  auto args = std::make_shared<CalibrationArgs>();
  CLI::App* cmd = app.add_subcommand(
      "calibration",
      "Show, import or clear the active calibration of mood scores.");
  cmd->require_subcommand(1);
  CLI::App* show = cmd->add_subcommand("show", "Show the active calibration.");
  show->add_flag("--json", args->json, "machine-readable output");
  show->callback([&opts, args, exit_code] { *exit_code = Show(opts, *args); });
  CLI::App* import = cmd->add_subcommand(
      "import", "Make a calibration (a JSON document) the active one.");
  import->add_option("FILE", args->file, "calibration JSON")->required();
  import->add_flag("--json", args->json, "machine-readable output");
  import->callback(
      [&opts, args, exit_code] { *exit_code = Import(opts, *args);
});
CLI::App* exp = cmd->add_subcommand(
    "export", "Write the active calibration (JSON) to FILE or stdout.");
exp->add_option("FILE", args->file, "where to write it (default: stdout)");
exp->callback([&opts, args, exit_code] { *exit_code = Export(opts, *args); });
CLI::App* clear = cmd->add_subcommand("clear", "Deactivate calibration.");
clear->add_flag("--json", args->json, "machine-readable output");
clear->callback([&opts, args, exit_code] { *exit_code = Clear(opts, *args); });
}  // namespace nomtag::cli

}  // namespace nomtag::cli
