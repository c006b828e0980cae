// What every nomtag command shares: the global options and the plugins
// they load. Each command lives in its own cmd_<name>.cc and registers
// itself with a Add<Name>Command function declared here.
#ifndef NOMTAG_CLI_CONTEXT_H_
#define NOMTAG_CLI_CONTEXT_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "plugins/plugin_registry.h"

namespace nomtag::cli {

struct GlobalOptions {
  std::string config_path;               // --config
  std::vector<std::string> plugin_dirs;  // --plugin-dir
  bool verbose = false;                  // --verbose
};

// Loads plugins.yaml (the given one or the default) and every plugin it
// lists. A config that cannot be read or parsed is an error; a refused
// plugin is not (callers report registry.refused() as they see fit).
Status LoadPlugins(const GlobalOptions& opts, PluginRegistry* registry);

// Prints "nomtag: <message>" to stderr and returns the exit status for it.
int Fail(const Status& status);

// Registration of each command; the callback it sets stores the exit code
// in *exit_code.
void AddPluginsCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code);
void AddTagsCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_CONTEXT_H_
