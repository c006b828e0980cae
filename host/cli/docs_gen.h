// The manual page and the bash completion, written from the command
// definitions themselves (the CLI11 tree every cmd_*.cc builds), so they
// say exactly what --help says. The build runs
//   nomtag generate-docs --man DIR --bash-completion FILE
// (a hidden command) and installs what it writes.
#ifndef NOMTAG_CLI_DOCS_GEN_H_
#define NOMTAG_CLI_DOCS_GEN_H_

#include <CLI/CLI.hpp>
#include <string>

namespace nomtag::cli {

// nomtag(1): synopsis, every command with its arguments and options, the
// global options, environment, files, exit status.
std::string ManPage(const CLI::App& app, const std::string& version);

// A bash completion script for the commands, subcommands and options.
std::string BashCompletion(const CLI::App& app);

// Registers the hidden `generate-docs` command (not in --help, the man
// page or the completion). Must be added after every other command.
void AddGenerateDocsCommand(CLI::App& app, const std::string& version,
                            int* exit_code);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_DOCS_GEN_H_
