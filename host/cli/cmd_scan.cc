// nomtag scan LIBRARY: record what is on disk.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/context.h"
#include "report/json_text.h"
#include "scan/scanner.h"

namespace nomtag::cli {
namespace {

struct ScanArgs {
  std::string library;
  bool json = false;
};

int Run(const GlobalOptions& opts, const ScanArgs& args) {
  Session session;
  if (Status s = OpenSession(opts, &session, OpenOptions::Access::kWrite,
                             kFormatPlugins);
      !s.ok())
    return Fail(s);
  auto lib = session.db->FindLibrary(args.library);
  if (!lib.ok()) return Fail(lib.status());
  Result<ScanReport> report = Status::Internal("not run");
  {
    Progress progress("scanning");
    report =
        ScanLibrary(*session.db, session.registry, *lib, [&](int64_t seen) {
          if (seen % 50 == 0) progress.Update(seen, 0);
        });
  }
  if (!report.ok()) return Fail(report.status());
  const ScanReport& r = *report;
  if (args.json) {
    nlohmann::json out{{"library", lib->name},
                       {"seen", r.seen},
                       {"added", r.added},
                       {"updated", r.updated},
                       {"unchanged", r.unchanged},
                       {"moved", r.moved},
                       {"missing", r.missing},
                       {"skipped", r.skipped},
                       {"rolled_back", r.recovery.rolled_back},
                       {"finished_writes_kept", r.recovery.completed},
                       {"temp_files_removed", r.recovery.temps_removed},
                       {"complete", r.complete()},
                       {"errors", nlohmann::json::array()},
                       {"unseen", nlohmann::json::array()}};
    for (const auto& [path, error] : r.errors)
      out["errors"].push_back({{"path", path}, {"error", error}});
    for (const auto& [path, error] : r.unseen)
      out["unseen"].push_back({{"path", path}, {"error", error}});
    PrintJson(out);
  } else {
    std::printf(
        "%s: %lld files (%lld new, %lld changed, %lld unchanged, %lld "
        "moved), %lld missing, %lld skipped\n",
        lib->name.c_str(), static_cast<long long>(r.seen),
        static_cast<long long>(r.added), static_cast<long long>(r.updated),
        static_cast<long long>(r.unchanged), static_cast<long long>(r.moved),
        static_cast<long long>(r.missing), static_cast<long long>(r.skipped));
    if (r.recovery.AnythingResolved())
      std::printf("resolved interrupted writes: %s\n",
                  r.recovery.Summary().c_str());
    for (const auto& [path, error] : r.errors)
      std::printf("  unreadable: %s: %s\n", path.c_str(), error.c_str());
    for (const auto& [path, error] : r.unseen)
      std::printf("  not read: %s: %s (nothing under it marked missing)\n",
                  path.c_str(), error.c_str());
  }
  // Non-zero whenever something was not seen or not read: the database
  // then does not describe the whole library.
  if (!r.complete()) {
    std::fprintf(stderr,
                 "nomtag: scan of '%s' incomplete: %zu file(s) unreadable, "
                 "%zu folder(s) or entries not read\n",
                 lib->name.c_str(), r.errors.size(), r.unseen.size());
    return 1;
  }
  return 0;
}

}  // namespace

void AddScanCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code) {
  auto args = std::make_shared<ScanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "scan",
      "Record the library's files: which `nom` keys each holds and, for "
      "files nomtag did not write, which mode they look written in. "
      "Unchanged files are not reopened; vanished ones are marked missing.");
  cmd->add_option("LIBRARY", args->library, "name or id")->required();
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([&opts, args, exit_code] { *exit_code = Run(opts, *args); });
}

}  // namespace nomtag::cli
