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
#include "store/storage_database.h"

namespace nomtag::cli {

struct GlobalOptions {
  std::string config_path;               // --config
  std::vector<std::string> plugin_dirs;  // --plugin-dir
  bool verbose = false;                  // --verbose
  std::string database;                  // --db, $NOMTAG_DB
  bool json = false;   // --json before the subcommand (see global_options.h)
  double wait_s = 30;  // --wait: for a database another process locks
};

// Loads plugins.yaml (the given one or the default) and every plugin it
// lists of the kinds the command uses (PluginRegistry::LoadAll). A config
// that cannot be read or parsed is an error; a refused plugin is not
// (callers report registry.refused() as they see fit). *tiers, when
// given, gets the config's mood tier rule; *roots its per-machine library
// roots. With *database (the --db value, "" for none), the plugins for
// URL databases are left out when that database cannot need them
// (store/storage_choice.h MayNeedUrlBackend).
Status LoadPlugins(const GlobalOptions& opts, PluginRegistry* registry,
                   TierRule* tiers = nullptr,
                   std::map<std::string, std::string>* roots = nullptr,
                   unsigned kinds = kAllPlugins,
                   const std::string* database = nullptr);

// The plugins plus an open database: what most commands work with.
struct Session {
  PluginRegistry registry;
  std::unique_ptr<StorageDatabase> db;
  TierRule tiers;  // plugins.yaml `tiers:` over the defaults
};

// Loads the plugins (warning about refused ones on stderr) and opens the
// database (--db, else the first storage plugin's configured or default
// one) with the storage plugin that serves it (store/storage_choice.h). Read
// commands open it read-only; only commands that create things (kCreate) create
// a missing database.
// kinds: the plugins the command uses (plugin_registry.h PluginKinds);
// storage is always among them.
Status OpenSession(const GlobalOptions& opts, Session* session,
                   OpenOptions::Access access = OpenOptions::Access::kWrite,
                   unsigned kinds = kAllPlugins);

// Prints a progress line on stderr when it is a terminal; quiet otherwise.
class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();                               // ends the line
  void Update(int64_t done, int64_t total);  // total 0: unknown

 private:
  std::string label_;
  bool tty_;
  bool shown_ = false;
};

// Prints "nomtag: <message>" to stderr and returns the exit status for it.
int Fail(const Status& status);

// The value of a --padding option: "default" (0: each format's own) or a
// number of bytes, optionally in KiB or MiB ("8KiB", "1MiB"); at most
// 16 MiB.
Result<uint32_t> ParsePadding(const std::string& text);

// Registration of each command; the callback it sets stores the exit code
// in *exit_code.
void AddPluginsCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code);
void AddTagsCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code);
void AddTagsImportCommand(CLI::App* tags, const GlobalOptions& opts,
                          int* exit_code);
void AddLibraryCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code);
void AddScanCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code);
void AddReconcileCommand(CLI::App& app, const GlobalOptions& opts,
                         int* exit_code);
void AddStatusCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code);
void AddCalibrationCommand(CLI::App& app, const GlobalOptions& opts,
                           int* exit_code);
void AddRecoverCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code);
void AddAnalyzeCommand(CLI::App& app, const GlobalOptions& opts,
                       int* exit_code);
void AddCalibrateCommand(CLI::App& app, const GlobalOptions& opts,
                         int* exit_code);
void AddServeCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code);
void AddDbCommand(CLI::App& app, const GlobalOptions& opts, int* exit_code);

}  // namespace nomtag::cli

#endif  // NOMTAG_CLI_CONTEXT_H_
