#include "cli/global_options.h"

#include <algorithm>

namespace nomtag::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& opts) {
  app.fallthrough();
  const std::string group = "Global options (before or after the command)";
  app.add_option("--config", opts.config_path,
                 "plugins.yaml to use (default: $NOMTAG_CONFIG, else "
                 "$XDG_CONFIG_HOME/nomtag/plugins.yaml, else "
                 "/etc/nomtag/plugins.yaml, else every bundled plugin with "
                 "its default settings)")
      ->group(group);
  app.add_option("--plugin-dir", opts.plugin_dirs,
                 "extra directory searched for plugins given by name "
                 "(repeatable; also $NOMTAG_PLUGIN_PATH)")
      ->group(group);
  app.add_flag("-v,--verbose", opts.verbose,
               "say which configuration is used; show plugins' info messages")
      ->group(group);
  app.add_option("--db", opts.database,
                 "database to use: a file path, or a postgresql:// URL "
                 "(needs the storage-postgresql plugin); default: the storage "
                 "plugin's `database:` setting, else "
                 "$XDG_DATA_HOME/nomtag/nomtag.db, "
                 "~/.local/share/nomtag/nomtag.db when XDG_DATA_HOME is unset)")
      ->envname("NOMTAG_DB")
      ->group(group);
  app.add_option("--wait", opts.wait_s,
                 "seconds to wait for a database another process keeps "
                 "locked before giving up, naming it (0-86400; default 30)")
      ->check(CLI::Range(0.0, 86400.0))
      ->group(group);
  app.add_flag("--json", opts.json,
               "machine-readable output, for the commands that have it")
      ->group(group);
}

std::vector<std::string> MoveLeadingJson(
    int argc, char** argv, const std::vector<std::string>& command_names) {
  std::vector<std::string> args(argv, argv + argc);
  auto is_command = [&](const std::string& a) {
    return std::find(command_names.begin(), command_names.end(), a) !=
           command_names.end();
  };
  auto first_command =
      std::find_if(args.begin() + std::min(argc, 1), args.end(), is_command);
  if (first_command == args.end()) return args;
  const auto moved = std::count(args.begin(), first_command, "--json");
  if (moved == 0) return args;
  args.erase(std::remove(args.begin(), first_command, "--json"), first_command);
  auto end = std::find(args.begin(), args.end(), "--");
  args.insert(end, moved, "--json");
  return args;
}

}  // namespace nomtag::cli
