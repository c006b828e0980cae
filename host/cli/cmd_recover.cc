// nomtag recover [PATH|LIBRARY]: resolve what interrupted writes left.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "report/json_text.h"
#include "write/recovery.h"

namespace nomtag::cli {
namespace {

struct RecoverArgs {
  std::string target;
  bool keep_as_is = false;
  bool json = false;
};

int Run(const GlobalOptions& opts, const RecoverArgs& args) {
  const std::string& target = args.target;
  std::string root = target;
  std::error_code ec;
  if (!std::filesystem::exists(target, ec)) {
    Session session;
    if (Status s = OpenSession(opts, &session, OpenOptions::Access::kRead);
        !s.ok())
      return Fail(s);
    auto lib = session.db->FindLibrary(target);
    if (!lib.ok()) return Fail(lib.status());
    root = lib->root;
  }
  RecoveryReport report;
  // With --keep-as-is the user has looked at these files and keeps them as
  // they are: every journal nomtag cannot resolve on its own goes (those of
  // writers still running stay).
  RecoveryOptions options;
  options.keep_as_is = args.keep_as_is;
  Status s = std::filesystem::is_directory(root, ec)
                 ? RecoverTree(root, &report, options)
                 : RecoverFile(root, &report, options);
  const int dropped = report.dropped_keeping_files;
  if (args.json) {
    nlohmann::json out{{"target", root},
                       {"rolled_back", report.rolled_back},
                       {"finished_writes_kept", report.completed},
                       {"torn_journals_discarded", report.torn_discarded},
                       {"temp_files_removed", report.temps_removed},
                       {"not_started_journals_dropped", report.not_started},
                       {"left_to_running_writers", report.busy},
                       {"journals_dropped_keeping_files", dropped},
                       {"unresolved", report.problems}};
    PrintJson(out);
  } else {
    std::printf("%s: %s\n", root.c_str(), report.Summary().c_str());
    if (dropped > 0)
      std::printf("  %d journal(s) dropped; those files are kept as they are\n",
                  dropped);
    for (const auto& p : report.problems)
      std::printf("  unresolved: %s\n", p.c_str());
  }
  return s.ok() ? 0 : Fail(s);
}

}  // namespace

void AddRecoverCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code) {
  auto args = std::make_shared<RecoverArgs>();
  CLI::App* cmd = app.add_subcommand(
      "recover",
      "Resolve writes a killed process left unfinished: roll back files from "
      "complete journals (keep those whose write had finished), discard torn "
      "journals, remove temporary copies. A file another program wrote since "
      "is left alone and reported. (scan, reconcile and tags write do this on "
      "their own.)");
  cmd->add_option("TARGET", args->target,
                  "a library (name or id), folder or file")
      ->required();
  cmd->add_flag("--keep-as-is", args->keep_as_is,
                "for files another program wrote after nomtag's write to them "
                "was interrupted (left alone and reported), drop the journal "
                "and keep the file as it is now");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
