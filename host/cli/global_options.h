// The options every nomtag command takes: --config, --plugin-dir, -v, --db
// and --json, accepted before or after the subcommand ("nomtag scan music
// --db x.db" and "nomtag --db x.db scan music" are the same command).
#ifndef NOMTAG_CLI_GLOBAL_OPTIONS_H_
#define NOMTAG_CLI_GLOBAL_OPTIONS_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "cli/context.h"

namespace nomtag::cli {

// Adds the global options to app and lets every subcommand added after
// this call pass the options it does not know to its parent (CLI11's
// fallthrough). --db also reads $NOMTAG_DB.
void AddGlobalOptions(CLI::App& app, GlobalOptions& opts);

// The command line with every --json given before the subcommand moved to
// the end (before a "--"), where the subcommand's own --json flag sees it.
// first_command_names: the top-level subcommand names.
std::vector<std::string> MoveLeadingJson(
    int argc, char** argv, const std::vector<std::string>& command_names);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_GLOBAL_OPTIONS_H_
