// nomtag recover [PATH|LIBRARY]: resolve what interrupted writes left.
#include <cstdio>
#include <filesystem>

#include "cli/context.h"
#include "write/recovery.h"

namespace nomtag::cli {
namespace {

int Run(const GlobalOptions& opts, const std::string& target) {
  std::string root = target;
  std::error_code ec;
  if (!std::filesystem::exists(target, ec)) {
    Session session;
    if (Status s = OpenSession(opts, &session); !s.ok()) return Fail(s);
    auto lib = session.db->FindLibrary(target);
    if (!lib.ok()) return Fail(lib.status());
    root = lib->root;
  }
  RecoveryReport report;
  Status s = std::filesystem::is_directory(root, ec)
                 ? RecoverTree(root, &report)
                 : RecoverFile(root, &report);
  std::printf(
      "%s: %d rolled back, %d torn journals discarded, %d temporary "
      "files removed\n",
      root.c_str(), report.rolled_back, report.torn_discarded,
      report.temps_removed);
  for (const auto& p : report.problems)
    std::printf("  unresolved: %s\n", p.c_str());
  return s.ok() ? 0 : Fail(s);
}

}  // namespace

void AddRecoverCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code) {
  auto target = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "recover",
      "Resolve writes a killed process left unfinished: roll back files from "
      "complete journals, discard torn journals, remove temporary copies. "
      "(scan, reconcile and tags write do this on their own.)");
  cmd->add_option("TARGET", *target, "a library (name or id), folder or file")
      ->required();
  cmd->callback(
      [&opts, target, exit_code] { *exit_code = Run(opts, *target); });
}

}  // namespace nomtag::cli
